/**
 * `shardflow run <kind> [spec flags] [--spec file] [--watch] [--dry-run]`: start a job of any kind
 * the server runs. Spec flags come from the server's OpenAPI document (src/cli/spec.ts), so this
 * file names no kind.
 */
import type { Command } from 'commander';
import { UsageError } from '../io.js';
import { duration, int } from '../format.js';
import { jobBody, kindSpecs, readSpecFile, specFlags } from '../spec.js';
import { watchJob } from '../watch.js';
import type { Ctx } from './context.js';
import { readSecret } from '../secrets.js';

interface RunOptions {
  spec?: string;
  format?: string;
  compression?: string;
  postgresSchema?: string;
  postgresTarget?: string;
  ifExists?: string;
  encryptPassphraseFile?: string;
  encryptPassphraseEnv?: string;
  encryptKeyFile?: string;
  shardRows?: string;
  maxParallelShards?: string;
  watch?: boolean;
  dryRun?: boolean;
  idempotencyKey?: string;
}

function positive(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer (got ${JSON.stringify(raw)})`);
  return n;
}

export function registerRun(program: Command, ctx: Ctx): void {
  program
    .command('run <kind>')
    .description('start a job; spec fields are flags (--n-per-arm 1000 is spec.nPerArm), or come from --spec file.json|.yaml')
    .option('--spec <file>', 'a JSON or YAML file: the spec, or a whole job body {kind, spec, output, partitioning}; flags override it')
    .option('--format <format>', 'output.format (parquet, csv, ndjson; patients also fhir, fhir-bulk)')
    .option('--compression <codec>', 'output.compression (zstd, snappy, gzip, none)')
    .option('--postgres-schema <schema>', 'output.postgres.schema: also load the tables into this Postgres schema')
    .option('--postgres-target <name>', 'output.postgres.target: an operator-configured target')
    .option('--if-exists <what>', 'output.postgres.ifExists: error or replace')
    .option('--encrypt-passphrase-file <file>', 'output.encryption.passphrase from this file: every output file AES-256-GCM encrypted (docs/ENCRYPTION.md)')
    .option('--encrypt-passphrase-env <var>', 'output.encryption.passphrase from this environment variable')
    .option('--encrypt-key-file <file>', 'output.encryption.key: a 32-byte key (raw or base64) from this file')
    .option('--shard-rows <n>', 'partitioning.shardRows')
    .option('--max-parallel-shards <n>', 'partitioning.maxParallelShards')
    .option('--idempotency-key <key>', 'send Idempotency-Key: the same key and body answer the job already started')
    .option('--watch', 'follow the job to its end (exit 0 completed, 1 failed, 3 cancelled)')
    .option('--dry-run', 'print the normalised spec, the row count and the estimate; start nothing')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', '\nSpec flags for the kinds a server runs: shardflow run <kind> --help-spec')
    .action(async (kind: string, o: RunOptions & { helpSpec?: boolean }, cmd: Command) => {
      const sf = ctx.client(cmd);
      const json = ctx.json(cmd);
      const doc = await sf.openapi();
      const specs = kindSpecs(doc);
      const spec = specs.get(kind);
      if (!spec) throw new UsageError(`unknown kind ${JSON.stringify(kind)}; this server runs: ${[...specs.keys()].join(', ')}`);
      const rest = cmd.args.slice(1);
      if (rest.includes('--help-spec')) {
        const props = Object.entries<Record<string, any>>(spec.properties ?? {});
        ctx.io.out(`spec flags for ${kind} jobs (required: ${(spec.required ?? []).join(', ') || 'none'}):`);
        for (const [name, s] of props) {
          const type = s.enum ? s.enum.join('|') : (s.type ?? (s.anyOf ? 'value' : 'json'));
          ctx.io.out(`  --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} <${type}>${s.description ? `  ${s.description}` : ''}`);
        }
        return;
      }
      const flags = specFlags(doc, kind, spec, rest);
      const file = o.spec ? await readSpecFile(o.spec) : undefined;
      const postgres = o.postgresSchema || o.postgresTarget || o.ifExists
        ? { ...(o.postgresSchema ? { schema: o.postgresSchema } : {}), ...(o.postgresTarget ? { target: o.postgresTarget } : {}), ...(o.ifExists ? { ifExists: o.ifExists } : {}) }
        : undefined;
      const secret = await readSecret(
        { passphraseFile: o.encryptPassphraseFile, passphraseEnv: o.encryptPassphraseEnv, keyFile: o.encryptKeyFile },
        ctx.env,
        { passphraseFile: '--encrypt-passphrase-file', passphraseEnv: '--encrypt-passphrase-env', keyFile: '--encrypt-key-file' },
        true,
      );
      const encryption = secret ? ('key' in secret ? { key: secret.key.toString('base64') } : { passphrase: secret.passphrase }) : undefined;
      const body = jobBody(kind, file, flags, {
        output: { ...(o.format ? { format: o.format } : {}), ...(o.compression ? { compression: o.compression } : {}), ...(postgres ? { postgres } : {}), ...(encryption ? { encryption } : {}) },
        partitioning: {
          ...(o.shardRows ? { shardRows: positive('shard-rows', o.shardRows) } : {}),
          ...(o.maxParallelShards ? { maxParallelShards: positive('max-parallel-shards', o.maxParallelShards) } : {}),
        },
      });
      if (o.dryRun) {
        const v = await sf.validateJob(body as never);
        if (json) return ctx.io.out(JSON.stringify(v));
        ctx.io.out(
          [
            `${v.kind} job (dry run: nothing started)`,
            `  ${int(v.estimate.rows)} ${v.unit} in ${int(v.shards)} shard${v.shards === 1 ? '' : 's'}; estimate ${duration(v.estimate.seconds)}`,
            `  output ${JSON.stringify(v.output)}, partitioning ${JSON.stringify(v.partitioning)}`,
            `  spec ${JSON.stringify(v.spec, null, 2).replace(/\n/g, '\n  ')}`,
          ].join('\n'),
        );
        return;
      }
      const job = await sf.createJob(body as never, { idempotencyKey: o.idempotencyKey });
      if (!o.watch) {
        ctx.io.out(json ? JSON.stringify(job) : `started ${job.id} (${int(job.estimate?.rows)} ${job.progress?.unit ?? 'rows'}): shardflow jobs watch ${job.id}`);
        return;
      }
      if (!json) ctx.io.out(`started ${job.id}`);
      ctx.finishWatch(cmd, await watchJob(sf, job.id, ctx.io, { json, handleSigint: ctx.handleSigint }));
    });
}
