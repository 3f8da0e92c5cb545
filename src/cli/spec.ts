/**
 * `shardflow run <kind> [--spec file] [--<spec field> value …]`: the job body from a JSON or YAML
 * file and flags. Spec flags are not written per kind: they are the kind's spec properties in the
 * server's OpenAPI document (`--n-per-arm` is `nPerArm`), each value read by its declared type
 * (integer, number, boolean, string, enum, array as comma-separated items; JSON for objects). A new
 * kind's spec fields are flags as soon as the server runs it.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './io.js';

type Schema = Record<string, any>;

/** `n-per-arm` → `nPerArm`. */
export const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** `nPerArm` → `n-per-arm`. */
export const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function resolve(doc: Schema, s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 10; i++) {
    const path = String(cur.$ref).replace(/^#\//, '').split('/');
    cur = path.reduce<any>((o, k) => o?.[k], doc);
  }
  return cur;
}

/** The kinds the server runs, and each one's spec schema. */
export function kindSpecs(doc: Schema): Map<string, Schema> {
  const create = resolve(doc, doc.components?.schemas?.CreateJob);
  const variants: Schema[] = create?.oneOf ?? create?.anyOf ?? (create ? [create] : []);
  const out = new Map<string, Schema>();
  for (const v0 of variants) {
    const v = resolve(doc, v0)!;
    const kindProp = v.properties?.kind;
    const names: string[] = kindProp?.enum ?? (kindProp?.const ? [kindProp.const] : []);
    for (const n of names) out.set(n, resolve(doc, v.properties?.spec) ?? {});
  }
  return out;
}

/** The JSON types a property schema admits (through anyOf/oneOf). */
function typesOf(doc: Schema, s: Schema | undefined): Set<string> {
  const r = resolve(doc, s);
  const t = new Set<string>();
  if (!r) return t;
  if (Array.isArray(r.type)) r.type.forEach((x: string) => t.add(x));
  else if (r.type) t.add(r.type);
  if (r.enum) r.enum.forEach((x: unknown) => t.add(typeof x === 'number' ? 'number' : typeof x));
  if (r.const !== undefined) t.add(typeof r.const);
  for (const sub of [...(r.anyOf ?? []), ...(r.oneOf ?? [])]) typesOf(doc, sub).forEach((x) => t.add(x));
  return t;
}

/** One flag's text as the property's type. */
export function coerce(doc: Schema, s: Schema | undefined, raw: string, flag: string): unknown {
  const types = typesOf(doc, s);
  const r = resolve(doc, s);
  const text = raw.trim();
  if ((text.startsWith('{') || text.startsWith('[')) && (types.has('object') || types.has('array'))) {
    try {
      return JSON.parse(text);
    } catch {
      throw new UsageError(`--${flag}: not valid JSON`);
    }
  }
  if (types.has('array')) {
    const items = r?.items ?? r?.prefixItems?.[0];
    return raw.split(',').map((x) => coerce(doc, items, x.trim(), flag));
  }
  if ((types.has('integer') || types.has('number')) && text !== '' && Number.isFinite(Number(text))) return Number(text);
  if (types.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (types.has('string') || types.size === 0) return raw;
  if (types.has('integer') || types.has('number')) throw new UsageError(`--${flag} must be a number (got ${JSON.stringify(raw)})`);
  if (types.has('boolean')) throw new UsageError(`--${flag} must be true or false (got ${JSON.stringify(raw)})`);
  return raw;
}

/** A spec or job file: JSON, or YAML (.yaml/.yml, or anything that is not JSON). */
export async function readSpecFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--spec ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (jsonErr) {
    try {
      value = parseYaml(text);
    } catch (err) {
      throw new UsageError(`--spec ${file}: neither JSON nor YAML (${((/\.ya?ml$/i.test(file) ? err : jsonErr) as Error).message.split('\n')[0]})`);
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--spec ${file}: must hold an object (a spec, or a job with kind and spec)`);
  return value as Record<string, unknown>;
}

export interface JobBody {
  kind: string;
  spec: Record<string, unknown>;
  output?: Record<string, unknown>;
  partitioning?: Record<string, unknown>;
}

/**
 * `tokens` are the flags commander did not know: `--name value`, `--name=value`, `--flag` (a
 * boolean). A value that starts with '-' (a negative effect) is a value, since every spec flag takes one.
 */
export function specFlags(doc: Schema, kind: string, spec: Schema, tokens: string[]): Record<string, unknown> {
  const props: Record<string, Schema> = spec.properties ?? {};
  const known = Object.keys(props).map(kebab);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (!tok.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(tok)}`);
    const eq = tok.indexOf('=');
    const flag = tok.slice(2, eq < 0 ? undefined : eq);
    const name = camel(flag);
    if (!Object.hasOwn(props, name)) {
      throw new UsageError(`unknown option --${flag} for ${kind} jobs (spec flags: ${known.map((k) => `--${k}`).join(', ') || 'none; use --spec'})`);
    }
    let raw: string;
    if (eq >= 0) raw = tok.slice(eq + 1);
    else if (typesOf(doc, props[name]).has('boolean') && !['true', 'false'].includes(tokens[i + 1] ?? '')) raw = 'true';
    else {
      if (i + 1 >= tokens.length) throw new UsageError(`--${flag} needs a value`);
      raw = tokens[++i]!;
    }
    out[name] = coerce(doc, props[name], raw, flag);
  }
  return out;
}

/** The body: the file (a whole job, or just a spec), then spec flags over it, then output/partitioning flags. */
export function jobBody(kind: string, file: Record<string, unknown> | undefined, flags: Record<string, unknown>, extra: { output?: Record<string, unknown>; partitioning?: Record<string, unknown> }): JobBody {
  const whole = file && 'spec' in file && typeof file.spec === 'object';
  if (whole && file.kind !== undefined && file.kind !== kind) throw new UsageError(`the spec file is a ${JSON.stringify(file.kind)} job, not ${kind}`);
  const spec = { ...((whole ? file.spec : file) as Record<string, unknown> | undefined), ...flags };
  const output = { ...((whole ? file.output : undefined) as Record<string, unknown> | undefined), ...extra.output };
  const partitioning = { ...((whole ? file.partitioning : undefined) as Record<string, unknown> | undefined), ...extra.partitioning };
  return {
    kind,
    spec,
    ...(Object.keys(output).length ? { output } : {}),
    ...(Object.keys(partitioning).length ? { partitioning } : {}),
  };
}
