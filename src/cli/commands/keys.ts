/** `shardflow keys create|list|revoke`. */
import { parseArgs } from 'node:util';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/api-keys.js';
import type { Db } from '../../db/client.js';
import { UsageError, type CliIo } from '../io.js';

export const KEYS_USAGE = `  keys create --name <name> [--tenant <id>] [--max-rows <n>] [--max-concurrent-jobs <n>]
              [--rate-per-minute <n>] [--max-storage-bytes <n>] [--json]
      create an API key; prints its secret once (tenant defaults to "local")
  keys list [--tenant <id>] [--all] [--json]
      list keys (--all includes revoked ones)
  keys revoke <key id> [--json]
      revoke a key; requests with it get 401 from then on`;

function positiveInt(name: string, raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

type Options = Record<string, { type: 'string' | 'boolean' }>;

function parse(args: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export async function runKeys(args: string[], openDb: () => Promise<Db>, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values, positionals } = parse(rest, {
        name: { type: 'string' },
        tenant: { type: 'string' },
        'max-rows': { type: 'string' },
        'max-concurrent-jobs': { type: 'string' },
        'rate-per-minute': { type: 'string' },
        'max-storage-bytes': { type: 'string' },
      });
      if (positionals.length) throw new UsageError(`keys create takes no arguments (got ${positionals.join(' ')})`);
      const name = values.name as string | undefined;
      if (!name) throw new UsageError('keys create needs --name');
      const tenant = values.tenant as string | undefined;
      if (tenant !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tenant)) {
        throw new UsageError('--tenant must be 1-64 characters: letters, digits, ".", "_", "-"');
      }
      const maxRows = positiveInt('max-rows', values['max-rows'] as string | undefined);
      const maxConcurrentJobs = positiveInt('max-concurrent-jobs', values['max-concurrent-jobs'] as string | undefined);
      const ratePerMinute = positiveInt('rate-per-minute', values['rate-per-minute'] as string | undefined);
      const maxStorageBytes = positiveInt('max-storage-bytes', values['max-storage-bytes'] as string | undefined);
      const db = await openDb();
      try {
        const key = await createApiKey(db.db, { name, tenantId: tenant, maxRows, maxConcurrentJobs, ratePerMinute, maxStorageBytes });
        if (values.json) io.out(JSON.stringify(key));
        else {
          io.out(
            `created API key ${key.id} for tenant "${key.tenantId}" (name ${JSON.stringify(key.name)}, ` +
              `max rows ${key.maxRows ?? 'unlimited'}, max concurrent jobs ${key.maxConcurrentJobs ?? 'unlimited'}, ` +
              `rate ${key.ratePerMinute === null ? 'unlimited' : `${key.ratePerMinute}/min`}, storage ${key.maxStorageBytes ?? 'unlimited'})\n` +
              `secret (shown only now; store it safely):\n${key.secret}`,
          );
        }
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'list': {
      const { values, positionals } = parse(rest, { tenant: { type: 'string' }, all: { type: 'boolean' } });
      if (positionals.length) throw new UsageError(`keys list takes no arguments (got ${positionals.join(' ')})`);
      const db = await openDb();
      try {
        const keys = await listApiKeys(db.db, { tenantId: values.tenant as string | undefined, includeRevoked: Boolean(values.all) });
        if (values.json) {
          io.out(JSON.stringify(keys));
          return 0;
        }
        const rows = [
          ['ID', 'TENANT', 'NAME', 'PREFIX', 'MAX ROWS', 'MAX JOBS', 'RATE/MIN', 'MAX BYTES', 'CREATED', 'REVOKED'],
          ...keys.map((k) => [
            k.id,
            k.tenantId,
            k.name ?? '',
            `${k.prefix}…`,
            k.maxRows?.toString() ?? '-',
            k.maxConcurrentJobs?.toString() ?? '-',
            k.ratePerMinute?.toString() ?? '-',
            k.maxStorageBytes?.toString() ?? '-',
            k.createdAt.toISOString(),
            k.revokedAt?.toISOString() ?? '',
          ]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        io.out(rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n'));
        if (keys.length === 0) io.out('(no keys)');
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'revoke': {
      const { values, positionals } = parse(rest, {});
      if (positionals.length !== 1) throw new UsageError('keys revoke needs exactly one key id');
      const id = positionals[0]!;
      const db = await openDb();
      try {
        const revoked = await revokeApiKey(db.db, id);
        if (values.json) io.out(JSON.stringify({ id, revoked }));
        else if (revoked) io.out(`revoked ${id}`);
        if (!revoked) {
          io.err(`shardflow: no active key with id ${JSON.stringify(id)}`);
          return 1;
        }
        return 0;
      } finally {
        await db.close();
      }
    }
    case undefined:
      throw new UsageError('keys needs a subcommand: create, list or revoke');
    default:
      throw new UsageError(`unknown keys subcommand ${JSON.stringify(sub)}`);
  }
}
