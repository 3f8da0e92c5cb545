/**
 * A relational spec's semantics: defaults filled in (what the job stores), and every check that
 * needs more than one field — refs, cycles, room for unique values, limits. Refusals name the
 * field with the API's dotted paths (`spec.tables.1.columns.3.table`).
 */
import type { FieldError } from '../../engine/kind.js';
import type { ChildCount, ColumnSpec, RelationalSpecBody, TableSpec } from './schema.js';

export interface RelationalLimits {
  maxTables: number;
  maxColumns: number;
}

export const DEFAULT_LIMITS: RelationalLimits = { maxTables: 32, maxColumns: 200 };

type Resolved<C> = C extends unknown
  ? Required<Omit<C, 'nullRate' | 'distribution' | 'decimals' | 'unique' | 's'>> & Pick<C, Extract<keyof C, 'distribution' | 'decimals' | 's'>> & { nullRate: number; unique?: boolean }
  : never;
/**
 * A column with every default filled in (a float without `decimals` keeps full precision; a ref
 * without `distribution` in a perParent table follows the layout, elsewhere it is uniform).
 */
export type ResolvedColumn = Resolved<ColumnSpec>;

export interface ResolvedTable {
  name: string;
  rows: number | { perParent: string; distribution: ChildCount };
  columns: ResolvedColumn[];
}

export interface RelationalSpec {
  seed: number;
  tables: ResolvedTable[];
}

const DAY_MS = 86_400_000;
export const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
/** Seconds since the epoch of an ISO timestamp (a bare date is midnight UTC). */
export const secondOf = (iso: string) => Math.floor(Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso) / 1000);
/** Timestamps stay within safe integer microseconds (src/data/batch.ts): about 1685–2255. */
const SECONDS_MIN = -9_000_000_000;
const SECONDS_MAX = 9_000_000_000;

function withDefaults(c: ColumnSpec): ResolvedColumn {
  const nullRate = 'nullRate' in c ? (c.nullRate ?? 0) : 0;
  switch (c.type) {
    case 'id':
      return { ...c, start: c.start ?? 1 } as ResolvedColumn; // an id is never null: no nullRate (the stored spec stays valid input)
    case 'int':
      return { ...c, min: c.min ?? 0, max: c.max ?? 1_000_000, unique: c.unique ?? false, nullRate };
    case 'float':
      return { ...c, min: c.min ?? 0, max: c.max ?? 1, nullRate };
    case 'normal':
      return { ...c, mean: c.mean ?? 0, sd: c.sd ?? 1, nullRate };
    case 'lognormal':
      return { ...c, mu: c.mu ?? 0, sigma: c.sigma ?? 1, nullRate };
    case 'choice':
      return { ...c, weights: c.weights ?? c.values.map(() => 1), nullRate };
    case 'bool':
      return { ...c, probability: c.probability ?? 0.5, nullRate };
    case 'date':
      return { ...c, min: c.min ?? '2020-01-01', max: c.max ?? '2025-12-31', unique: c.unique ?? false, nullRate };
    case 'timestamp':
      return { ...c, min: c.min ?? '2020-01-01T00:00:00Z', max: c.max ?? '2025-12-31T23:59:59Z', unique: c.unique ?? false, nullRate };
    case 'uuid':
      return { ...c, unique: c.unique ?? false, nullRate };
    case 'pattern':
      return { ...c, unique: c.unique ?? false, nullRate };
    case 'email':
      return { ...c, unique: c.unique ?? false, nullRate };
    case 'text': {
      const minWords = c.minWords ?? Math.min(3, c.maxWords ?? 3);
      return { ...c, minWords, maxWords: c.maxWords ?? Math.max(minWords, 12), nullRate };
    }
    case 'ref':
      return { ...c, ...(c.distribution === 'zipf' ? { s: c.s ?? 1 } : {}), nullRate };
    default:
      return { ...c, nullRate } as ResolvedColumn;
  }
}

/** One placeholder or literal of a pattern. */
export type PatternToken = { literal: string } | { radix: 10 | 26 | 36 };

export function parsePattern(pattern: string): PatternToken[] {
  const out: PatternToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) out.push({ literal: pattern[++i]! });
    else if (ch === '#') out.push({ radix: 10 });
    else if (ch === '?') out.push({ radix: 26 });
    else if (ch === '*') out.push({ radix: 36 });
    else out.push({ literal: ch });
  }
  return out;
}

/** How many distinct values a pattern can make (capped at 2^53). */
export function patternRoom(tokens: PatternToken[]): number {
  let n = 1;
  for (const t of tokens) if ('radix' in t) n = Math.min(n * t.radix, Number.MAX_SAFE_INTEGER);
  return n;
}

/** The room a unique column has, or undefined when it has no fixed bound (email, uuid, id). */
export function uniqueRoom(c: ResolvedColumn): number | undefined {
  switch (c.type) {
    case 'int':
      return c.max - c.min + 1;
    case 'date':
      return dayOf(c.max) - dayOf(c.min) + 1;
    case 'timestamp':
      return secondOf(c.max) - secondOf(c.min) + 1;
    case 'pattern':
      return patternRoom(parsePattern(c.pattern));
    default:
      return undefined;
  }
}

/** Fills defaults and checks what the shape cannot; throws nothing, returns the problems. */
export function resolveRelationalSpec(body: RelationalSpecBody, seed: number, limits: RelationalLimits): { spec: RelationalSpec; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (path: string, message: string) => errors.push({ path: `spec.${path}`, message });
  if (body.tables.length > limits.maxTables) err('tables', `at most ${limits.maxTables} tables (this server's limit), got ${body.tables.length}`);
  const byName = new Map<string, number>();
  body.tables.forEach((t, i) => {
    if (byName.has(t.name)) err(`tables.${i}.name`, `table "${t.name}" is already defined at tables.${byName.get(t.name)}`);
    else byName.set(t.name, i);
  });
  const tables: ResolvedTable[] = body.tables.map((t, i) => resolveTable(t, i, err, limits));
  const spec: RelationalSpec = { seed, tables };
  checkRefs(spec, byName, err);
  return { spec, errors };
}

function resolveTable(t: TableSpec, i: number, err: (p: string, m: string) => void, limits: RelationalLimits): ResolvedTable {
  const at = `tables.${i}`;
  if (t.columns.length > limits.maxColumns) err(`${at}.columns`, `at most ${limits.maxColumns} columns per table (this server's limit), got ${t.columns.length}`);
  const seen = new Map<string, number>();
  let idAt: number | undefined;
  const columns = t.columns.map((c, j) => {
    const cp = `${at}.columns.${j}`;
    if (seen.has(c.name)) err(`${cp}.name`, `column "${c.name}" is already defined at columns.${seen.get(c.name)}`);
    else seen.set(c.name, j);
    if (c.type === 'id') {
      if (idAt !== undefined) err(`${cp}.type`, `a table has at most one id column (columns.${idAt} is one)`);
      idAt ??= j;
    }
    const r = withDefaults(c);
    checkColumn(r, cp, err);
    return r;
  });
  if (typeof t.rows !== 'number') {
    const d = t.rows.distribution;
    if ('uniform' in d && d.uniform.min > d.uniform.max) err(`${at}.rows.distribution.uniform.min`, `min ${d.uniform.min} is above max ${d.uniform.max}`);
  }
  return { name: t.name, rows: t.rows, columns };
}

function checkColumn(c: ResolvedColumn, at: string, err: (p: string, m: string) => void): void {
  const range = (lo: number, hi: number, what = '') => {
    if (lo > hi) err(`${at}.min`, `min${what} is above max`);
  };
  switch (c.type) {
    case 'int':
      range(c.min, c.max);
      if (c.max - c.min + 1 > Number.MAX_SAFE_INTEGER) err(`${at}.max`, 'the range max − min must stay below 2^53');
      break;
    case 'float':
      range(c.min, c.max);
      break;
    case 'date': {
      const lo = dayOf(c.min);
      const hi = dayOf(c.max);
      if (!Number.isFinite(lo) || new Date(lo * DAY_MS).toISOString().slice(0, 10) !== c.min) err(`${at}.min`, `${c.min} is not a date`);
      else if (!Number.isFinite(hi) || new Date(hi * DAY_MS).toISOString().slice(0, 10) !== c.max) err(`${at}.max`, `${c.max} is not a date`);
      else range(lo, hi);
      break;
    }
    case 'timestamp': {
      const lo = secondOf(c.min);
      const hi = secondOf(c.max);
      if (!Number.isFinite(lo) || lo < SECONDS_MIN || lo > SECONDS_MAX) err(`${at}.min`, `${c.min} is not a timestamp between 1685 and 2255`);
      else if (!Number.isFinite(hi) || hi < SECONDS_MIN || hi > SECONDS_MAX) err(`${at}.max`, `${c.max} is not a timestamp between 1685 and 2255`);
      else range(lo, hi);
      break;
    }
    case 'choice': {
      if (c.weights.length !== c.values.length) err(`${at}.weights`, `${c.weights.length} weights for ${c.values.length} values`);
      else if (!(c.weights.reduce((a, b) => a + b, 0) > 0)) err(`${at}.weights`, 'the weights must sum to a positive number');
      break;
    }
    case 'text':
      if (c.minWords > c.maxWords) err(`${at}.minWords`, `minWords ${c.minWords} is above maxWords ${c.maxWords}`);
      break;
    case 'ref':
      if (c.distribution !== 'zipf' && c.s !== undefined) err(`${at}.s`, 'only a zipf ref takes s (add "distribution": "zipf")');
      break;
  }
  if (c.unique && !UNIQUE_TYPES.has(c.type)) {
    err(`${at}.unique`, `a ${c.type} column cannot be unique; unique works for ${[...UNIQUE_TYPES].join(', ')} (an id column is always unique)`);
  }
}

/** Types whose values can be made unique (a bijection of the row index): id always is. */
const UNIQUE_TYPES: ReadonlySet<string> = new Set(['int', 'date', 'timestamp', 'uuid', 'pattern', 'email']);

/** The ref column of a perParent table that follows the layout: the first ref to the parent without a distribution. */
export function layoutColumn(t: ResolvedTable): number {
  if (typeof t.rows === 'number') return -1;
  const parent = t.rows.perParent;
  return t.columns.findIndex((c) => c.type === 'ref' && c.table === parent && !c.distribution);
}

function checkRefs(spec: RelationalSpec, byName: Map<string, number>, err: (p: string, m: string) => void): void {
  // Edges child → parent, each with the field that made it (for the error).
  const edges: Array<Array<{ to: number; path: string }>> = spec.tables.map(() => []);
  spec.tables.forEach((t, i) => {
    if (typeof t.rows !== 'number') {
      const p = byName.get(t.rows.perParent);
      if (p === undefined) err(`tables.${i}.rows.perParent`, `no table is named "${t.rows.perParent}"`);
      else {
        edges[i]!.push({ to: p, path: `tables.${i}.rows.perParent` });
        const lc = layoutColumn(t);
        const parent = t.rows.perParent;
        const toParent = t.columns.findIndex((c) => c.type === 'ref' && c.table === parent);
        const unknownRef = t.columns.some((c) => c.type === 'ref' && !byName.has(c.table));
        if (lc < 0 && toParent >= 0) {
          err(`tables.${i}.columns.${toParent}.distribution`, `in a perParent table the ref to its parent (${parent}) holds each row's parent and takes no distribution; remove it (or add another ref to ${parent} for that)`);
        } else if (lc < 0 && !unknownRef) err(`tables.${i}.rows.perParent`, `add a ref column to ${parent} without a distribution: it holds each row's parent`);
        else if (lc >= 0 && t.columns[lc]!.nullRate > 0) err(`tables.${i}.columns.${lc}.nullRate`, `the ref to the perParent table holds each row's parent and cannot be null`);
      }
    }
    t.columns.forEach((c, j) => {
      if (c.type === 'ref') {
        const p = byName.get(c.table);
        if (p === undefined) err(`tables.${i}.columns.${j}.table`, `no table is named "${c.table}"`);
        else if (!spec.tables[p]!.columns.some((pc) => pc.type === 'id')) err(`tables.${i}.columns.${j}.table`, `table ${c.table} has no id column to reference`);
        else edges[i]!.push({ to: p, path: `tables.${i}.columns.${j}.table` });
      }
    });
  });
  // Cycles (a table that reaches itself through refs or perParent), reported once, at the closing edge.
  const state = new Uint8Array(spec.tables.length); // 0 new, 1 on the stack, 2 done
  const visit = (i: number, stack: string[]): boolean => {
    state[i] = 1;
    for (const e of edges[i]!) {
      if (state[e.to] === 1) {
        const names = [...stack, spec.tables[i]!.name, spec.tables[e.to]!.name];
        err(e.path, `refs form a cycle: ${names.slice(names.indexOf(spec.tables[e.to]!.name)).join(' → ')}`);
        return true;
      }
      if (state[e.to] === 0 && visit(e.to, [...stack, spec.tables[i]!.name])) return true;
    }
    state[i] = 2;
    return false;
  };
  for (let i = 0; i < spec.tables.length; i++) if (state[i] === 0 && visit(i, [])) break;
}

/** Table indexes with every table after the tables it refers to (the spec has no cycles). */
export function dependencyOrder(spec: RelationalSpec): number[] {
  const index = new Map(spec.tables.map((t, i) => [t.name, i]));
  const order: number[] = [];
  const done = new Uint8Array(spec.tables.length);
  const visit = (i: number) => {
    if (done[i]) return;
    done[i] = 1;
    const t = spec.tables[i]!;
    if (typeof t.rows !== 'number') visit(index.get(t.rows.perParent)!);
    for (const c of t.columns) if (c.type === 'ref') visit(index.get(c.table)!);
    order.push(i);
  };
  spec.tables.forEach((_, i) => visit(i));
  return order;
}

