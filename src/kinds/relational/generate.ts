/**
 * The relational generator: one TableGenerator per table, pure. Row r's value in column c is a
 * function of (seed, table name, column name, r) alone — counter-based random numbers
 * (src/data/rng.ts) keyed by name (streams.ts) — so any range of rows can be made by any shard.
 * Unique columns are bijections of the row index (permute.ts); keys are `start + row`; a ref is a
 * key of its table drawn from (seed, table, column, r), or, in a perParent table, the row's parent.
 */
import { UUID_BYTES, type Batch, type ColumnData, type ColumnSchema, type TableGenerator } from '../../data/batch.js';
import { counterState, fillNormals4, keyState, laneI32, laneU32, uniformFromU32 } from '../../data/rng.js';
import { copyInto, digitsInto, encodeAll, Utf8Builder } from '../../data/utf8.js';
import { createAliasTable, createZipf, type AliasTable, type Uniforms } from './dist.js';
import { computeLayouts, parentsOf, type ChildLayout, type Layouts } from './layout.js';
import { createPermutation } from './permute.js';
import {
  dayOf,
  layoutColumn,
  parsePattern,
  patternRoom,
  secondOf,
  type RelationalSpec,
  type ResolvedColumn,
  type ResolvedTable,
} from './spec.js';
import { nameStream } from './streams.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, WORDS } from './words.js';

const INV_TWO32 = 1 / 4294967296;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The Parquet/Postgres column type of each spec column type. */
export function columnSchema(c: ResolvedColumn): ColumnSchema {
  const nullable = c.nullRate > 0;
  const s = (type: ColumnSchema['type'], extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ name: c.name, type, ...extra, nullable });
  switch (c.type) {
    case 'id':
    case 'ref':
      return s('int64');
    case 'int':
      return s(c.min >= INT32_MIN && c.max <= INT32_MAX ? 'int32' : 'int64');
    case 'float':
    case 'normal':
    case 'lognormal': {
      return s('float64', c.decimals === undefined ? {} : { decimals: c.decimals });
    }
    case 'bool':
      return s('bool');
    case 'date':
      return s('date');
    case 'timestamp':
      return s('timestamp');
    case 'uuid':
      return s('uuid');
    default:
      return s('string');
  }
}

/** What every column of a table can see of the batch: its rows and, in a perParent table, their parents. */
interface RowContext {
  start: number;
  n: number;
  parents: Float64Array | undefined;
}

type Fill = (ctx: RowContext, old?: ColumnData) => ColumnData;

// A column's array for this batch: the recycled batch's (`old`, the same column of an earlier batch
// of this table) when it has the length, else a new one. Every fill writes all n values.
function f64(old: ColumnData | undefined, n: number): Float64Array {
  return old instanceof Float64Array && old.length === n ? old : new Float64Array(n);
}
function i32(old: ColumnData | undefined, n: number): Int32Array {
  return old instanceof Int32Array && old.length === n ? old : new Int32Array(n);
}
function u8(old: ColumnData | undefined, n: number): Uint8Array {
  return old instanceof Uint8Array && old.length === n ? old : new Uint8Array(n);
}

/** Scratch arrays for values used only while one fill runs (one batch at a time per thread). */
let scratchU32 = new Uint32Array(0);
let scratchF64 = new Float64Array(0);

/** u32 of lane 0 of (key, row) for each row of the batch (the common one-draw-per-row case), in a scratch array valid until the next call. */
function u32s(key: number, ctx: RowContext, lane = 0): Uint32Array {
  if (scratchU32.length < ctx.n) scratchU32 = new Uint32Array(ctx.n);
  const out = scratchU32;
  for (let i = 0; i < ctx.n; i++) out[i] = laneU32(counterState(key, ctx.start + i), lane);
  return out;
}

/** A uniform in (0, 1) with 53 bits from lanes (l, l + 1) of a counter state. */
const u53 = (cs: number, l: number) => ((laneU32(cs, l) >>> 5) * 67108864 + (laneU32(cs, l + 1) >>> 6) + 0.5) / 9007199254740992;

function rounder(c: { decimals?: number }): (x: number) => number {
  const d = c.decimals;
  if (d === undefined) return (x) => x;
  const p = 10 ** d;
  return (x) => Math.round(x * p) / p;
}

/** Standard normals for rows [start, start + n): row r is lane r mod 4 of counter ⌊r / 4⌋ (a scratch array, valid until the next call). */
function normalsFor(key: number, ctx: RowContext): Float64Array {
  const c0 = Math.floor(ctx.start / 4);
  const c1 = Math.floor((ctx.start + ctx.n - 1) / 4);
  const size = 4 * (c1 - c0 + 1);
  if (scratchF64.length < size) scratchF64 = new Float64Array(size);
  const all = scratchF64;
  fillNormals4(key, c0, c1 - c0 + 1, all);
  return all.subarray(ctx.start - 4 * c0, ctx.start - 4 * c0 + ctx.n);
}

function dictFill(list: readonly string[], pick: (row: number) => number): Fill {
  return (ctx, old) => {
    const codes = old && !ArrayBuffer.isView(old) && old.kind === 'dict' && old.codes.length === ctx.n ? old.codes : new Uint32Array(ctx.n);
    for (let i = 0; i < ctx.n; i++) codes[i] = pick(ctx.start + i);
    return { kind: 'dict', dictionary: list, codes };
  };
}

/** Tables the generator needs to know about other tables: their key starts and rows. */
interface Keys {
  idStart: number;
  rows: number;
}

interface TableSetup {
  spec: RelationalSpec;
  table: ResolvedTable;
  index: number;
  layouts: Layouts;
  keysOf(name: string): Keys;
}

/** The per-row name draws a table's firstName, lastName and email columns share. */
function nameDraws(seed: number, table: string) {
  const first = FIRST_NAMES();
  const last = LAST_NAMES();
  const firstAlias = createAliasTable(first.weights);
  const lastAlias = createAliasTable(last.weights);
  const firstKey = keyState(seed, nameStream(table, '#firstName'));
  const lastKey = keyState(seed, nameStream(table, '#lastName'));
  return {
    first,
    last,
    firstOf: (row: number) => firstAlias.pick(uniformFromU32(laneU32(counterState(firstKey, row), 0))),
    lastOf: (row: number) => lastAlias.pick(uniformFromU32(laneU32(counterState(lastKey, row), 0))),
  };
}

function columnFill(c: ResolvedColumn, setup: TableSetup, shared: () => ReturnType<typeof nameDraws>): Fill {
  const seed = setup.spec.seed;
  const t = setup.table.name;
  const key = keyState(seed, nameStream(t, c.name));
  const permKey = keyState(seed, nameStream(t, `${c.name}#unique`));
  switch (c.type) {
    case 'id':
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = c.start + ctx.start + i;
        return out;
      };
    case 'int': {
      const range = c.max - c.min + 1;
      const wide = columnSchema(c).type === 'int64';
      if (c.unique) {
        const perm = createPermutation(range, permKey);
        return (ctx, old) => {
          const out = wide ? f64(old, ctx.n) : i32(old, ctx.n);
          for (let i = 0; i < ctx.n; i++) out[i] = c.min + perm.apply(ctx.start + i);
          return out;
        };
      }
      return (ctx, old) => {
        const out = wide ? f64(old, ctx.n) : i32(old, ctx.n);
        if (range <= 4294967296) {
          for (let i = 0; i < ctx.n; i++) out[i] = c.min + Math.floor(laneU32(counterState(key, ctx.start + i), 0) * INV_TWO32 * range);
        } else {
          for (let i = 0; i < ctx.n; i++) out[i] = c.min + Math.floor(u53(counterState(key, ctx.start + i), 0) * range);
        }
        return out;
      };
    }
    case 'float': {
      const round = rounder(c);
      const w = c.max - c.min;
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = round(c.min + w * u53(counterState(key, ctx.start + i), 0));
        return out;
      };
    }
    case 'normal': {
      const round = rounder(c);
      return (ctx, old) => {
        const z = normalsFor(key, ctx);
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = round(c.mean + c.sd * z[i]!);
        return out;
      };
    }
    case 'lognormal': {
      const round = rounder(c);
      return (ctx, old) => {
        const z = normalsFor(key, ctx);
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = round(Math.exp(c.mu + c.sigma * z[i]!));
        return out;
      };
    }
    case 'choice': {
      const alias = createAliasTable(c.weights);
      return dictFill(c.values, (row) => alias.pick(uniformFromU32(laneU32(counterState(key, row), 0))));
    }
    case 'bool': {
      const threshold = c.probability * 4294967296;
      return (ctx, old) => {
        const u = u32s(key, ctx);
        const out = u8(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = u[i]! < threshold ? 1 : 0;
        return out;
      };
    }
    case 'date': {
      const lo = dayOf(c.min);
      const range = dayOf(c.max) - lo + 1;
      const perm = c.unique ? createPermutation(range, permKey) : undefined;
      return (ctx, old) => {
        const out = i32(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          out[i] = lo + (perm ? perm.apply(r) : Math.floor(laneU32(counterState(key, r), 0) * INV_TWO32 * range));
        }
        return out;
      };
    }
    case 'timestamp': {
      const lo = secondOf(c.min);
      const range = secondOf(c.max) - lo + 1;
      const perm = c.unique ? createPermutation(range, permKey) : undefined;
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          out[i] = (lo + (perm ? perm.apply(r) : Math.floor(u53(counterState(key, r), 0) * range))) * 1e6;
        }
        return out;
      };
    }
    case 'uuid': {
      // Version 4 layout (RFC 9562); a unique column puts a 53-bit bijection of the row in bytes 0–5 and 7.
      const perm = c.unique ? createPermutation(Number.MAX_SAFE_INTEGER, permKey) : undefined;
      return (ctx, old) => {
        const out = u8(old, ctx.n * UUID_BYTES);
        const view = new DataView(out.buffer);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          const cs = counterState(key, r);
          const o = i * UUID_BYTES;
          view.setInt32(o, laneI32(cs, 0));
          view.setInt32(o + 4, laneI32(cs, 1));
          view.setInt32(o + 8, laneI32(cs, 2));
          view.setInt32(o + 12, laneI32(cs, 3));
          if (perm) {
            const v = perm.apply(r);
            const hi = Math.floor(v / 4294967296);
            view.setUint32(o, v >>> 0);
            view.setUint16(o + 4, hi & 0xffff);
            out[o + 7] = (out[o + 7]! & 0xe0) | (hi >>> 16);
          }
          out[o + 6] = (out[o + 6]! & 0x0f) | 0x40;
          out[o + 8] = (out[o + 8]! & 0x3f) | 0x80;
        }
        return out;
      };
    }
    case 'pattern': {
      // The pattern's bytes with each slot's position; a row copies them and fills the slots.
      const tokens = parsePattern(c.pattern);
      const enc = new TextEncoder();
      const parts: number[] = [];
      const slotAt: number[] = [];
      const radixes: number[] = [];
      for (const t of tokens) {
        if ('literal' in t) parts.push(...enc.encode(t.literal));
        else slotAt.push(parts.length), radixes.push(t.radix), parts.push(0);
      }
      const template = Uint8Array.from(parts);
      const slots = radixes.length;
      const room = patternRoom(tokens);
      const perm = c.unique ? createPermutation(room, permKey) : undefined;
      const ALPHABET = Uint8Array.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', (ch) => ch.charCodeAt(0));
      const letter = radixes.map((r) => (r === 26 ? 10 : 0));
      return (ctx, old) => {
        const out = new Utf8Builder(ctx.n, template.length, old);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          const at = out.pos;
          out.put(template);
          const b = out.bytes;
          if (perm) {
            // Mixed-radix digits of the permuted index, last slot least significant.
            let v = perm.apply(r);
            for (let k = slots - 1; k >= 0; k--) {
              const radix = radixes[k]!;
              const q = Math.floor(v / radix);
              b[at + slotAt[k]!] = ALPHABET[letter[k]! + v - q * radix]!;
              v = q;
            }
          } else {
            const cs = counterState(key, r);
            for (let k = 0; k < slots; k++) b[at + slotAt[k]!] = ALPHABET[letter[k]! + Math.floor(laneU32(cs, k) * INV_TWO32 * radixes[k]!)]!;
          }
          out.end();
        }
        return out.column();
      };
    }
    case 'firstName': {
      const names = shared();
      return dictFill(names.first.values, names.firstOf);
    }
    case 'lastName': {
      const names = shared();
      return dictFill(names.last.values, names.lastOf);
    }
    case 'email': {
      const names = shared();
      const lowerFirst = encodeAll(names.first.values.map((v) => `${v.toLowerCase()}.`));
      const lowerLast = encodeAll(names.last.values.map((v) => v.toLowerCase()));
      const domains = encodeAll(EMAIL_DOMAINS.map((d) => `@${d}`));
      const rows = setup.layouts.rows[setup.index]!;
      // A unique address ends in a bijection of the row index: distinct rows, distinct addresses.
      const room = Math.max(1000, 10 ** Math.ceil(Math.log10(Math.max(rows, 1)) + 1));
      const perm = c.unique ? createPermutation(room, permKey) : undefined;
      const longest = (xs: Uint8Array[]) => xs.reduce((n, x) => Math.max(n, x.length), 0);
      const widest = longest(lowerFirst) + longest(lowerLast) + 16 + longest(domains);
      return (ctx, old) => {
        const out = new Utf8Builder(ctx.n, 32, old);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          const h = laneU32(counterState(key, r), 0);
          out.ensure(widest);
          const b = out.bytes;
          let p = copyInto(b, out.pos, lowerFirst[names.firstOf(r)]!); // "first."
          p = copyInto(b, p, lowerLast[names.lastOf(r)]!);
          if (perm) p = digitsInto(b, p, perm.apply(r));
          else if (h & 1) p = digitsInto(b, p, (h >>> 1) % 100);
          out.pos = copyInto(b, p, domains[(h >>> 8) % 3]!);
          out.end();
        }
        return out.column();
      };
    }
    case 'text': {
      const words = WORDS();
      const spread = c.maxWords - c.minWords + 1;
      const plain = encodeAll(words.map((w) => ` ${w}`));
      const capital = encodeAll(words.map((w) => w[0]!.toUpperCase() + w.slice(1)));
      const widest = plain.reduce((n, x) => Math.max(n, x.length), 0);
      return (ctx, old) => {
        const out = new Utf8Builder(ctx.n, 4 * (c.minWords + c.maxWords) + 2, old);
        for (let i = 0; i < ctx.n; i++) {
          const r = ctx.start + i;
          const cs = counterState(key, r);
          const count = c.minWords + Math.floor(laneU32(cs, 0) * INV_TWO32 * spread);
          out.ensure(count * widest + 1);
          const b = out.bytes;
          let p = out.pos;
          for (let k = 0; k < count; k++) {
            const w = Math.floor(laneU32(cs, k + 1) * INV_TWO32 * words.length);
            p = copyInto(b, p, k === 0 ? capital[w]! : plain[w]!);
          }
          if (count) b[p++] = 0x2e; // .
          out.pos = p;
          out.end();
        }
        return out.column();
      };
    }
    case 'ref':
      return refFill(c, setup, key);
  }
}

function refFill(c: Extract<ResolvedColumn, { type: 'ref' }>, setup: TableSetup, key: number): Fill {
  const parent = setup.keysOf(c.table);
  const { idStart, rows } = parent;
  const follows = setup.table.columns.indexOf(c) === layoutColumn(setup.table);
  if (follows) {
    return (ctx, old) => {
      const out = f64(old, ctx.n);
      for (let i = 0; i < ctx.n; i++) out[i] = idStart + ctx.parents![i]!;
      return out;
    };
  }
  if (rows === 0) return (ctx) => new Float64Array(ctx.n); // every row is null (normalize requires nullRate 1)
  switch (c.distribution) {
    case 'sequential':
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) out[i] = idStart + ((ctx.start + i) % rows);
        return out;
      };
    case 'zipf': {
      // Rank 1 is the first key: key k is drawn with probability ∝ k^−s.
      const zipf = createZipf(rows, c.s ?? 1);
      let cs = 0;
      const uniform: Uniforms = (j) => uniformFromU32(laneU32(cs, j));
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        for (let i = 0; i < ctx.n; i++) {
          cs = counterState(key, ctx.start + i);
          out[i] = idStart + zipf.sample(uniform) - 1;
        }
        return out;
      };
    }
    default:
      return (ctx, old) => {
        const out = f64(old, ctx.n);
        if (rows <= 4294967296) for (let i = 0; i < ctx.n; i++) out[i] = idStart + Math.floor(laneU32(counterState(key, ctx.start + i), 0) * INV_TWO32 * rows);
        else for (let i = 0; i < ctx.n; i++) out[i] = idStart + Math.floor(u53(counterState(key, ctx.start + i), 0) * rows);
        return out;
      };
  }
}

function nullFill(seed: number, table: string, c: ResolvedColumn): ((ctx: RowContext, old?: Uint8Array) => Uint8Array) | undefined {
  if (!(c.nullRate > 0)) return undefined;
  const key = keyState(seed, nameStream(table, `${c.name}#null`));
  const threshold = c.nullRate * 4294967296;
  return (ctx, old) => {
    const out = u8(old, ctx.n);
    if (c.nullRate >= 1) return out.fill(1);
    for (let i = 0; i < ctx.n; i++) out[i] = laneU32(counterState(key, ctx.start + i), 0) < threshold ? 1 : 0;
    return out;
  };
}

export interface RelationalTables {
  layouts: Layouts;
  tables: TableGenerator[];
}

/** Every table's generator; `layouts` may be passed when already computed (it is a pure function of the spec). */
export function createRelationalTables(spec: RelationalSpec, layouts: Layouts = computeLayouts(spec)): RelationalTables {
  const index = new Map(spec.tables.map((t, i) => [t.name, i]));
  const keysOf = (name: string): Keys => {
    const i = index.get(name)!;
    const id = spec.tables[i]!.columns.find((c) => c.type === 'id') as Extract<ResolvedColumn, { type: 'id' }>;
    return { idStart: id.start, rows: layouts.rows[i]! };
  };
  const tables = spec.tables.map((table, ti): TableGenerator => {
    const setup: TableSetup = { spec, table, index: ti, layouts, keysOf };
    let names: ReturnType<typeof nameDraws> | undefined;
    const shared = () => (names ??= nameDraws(spec.seed, table.name));
    const schema = table.columns.map(columnSchema);
    let fills: Fill[] | undefined;
    let nulls: Array<((ctx: RowContext, old?: Uint8Array) => Uint8Array) | undefined> | undefined;
    const layout: ChildLayout | undefined = layouts.children.get(ti);
    // The batch's parents, read by the fills while batch() runs only.
    let parentsScratch = new Float64Array(0);
    return {
      table: table.name,
      schema,
      rows: layouts.rows[ti]!,
      batch(start, end, recycle): Batch {
        fills ??= table.columns.map((c) => columnFill(c, setup, shared));
        nulls ??= table.columns.map((c) => nullFill(spec.seed, table.name, c));
        const n = end - start;
        let parents: Float64Array | undefined;
        if (layout) {
          if (parentsScratch.length < n) parentsScratch = new Float64Array(n);
          parentsOf(layout, start, end, (parents = parentsScratch));
        }
        const ctx: RowContext = { start, n, parents };
        const columns = fills.map((f, j) => f(ctx, recycle?.columns[j]));
        const batchNulls = nulls.map((f, j) => f?.(ctx, recycle?.nulls?.[j]));
        return { start, length: n, columns, ...(batchNulls.some(Boolean) ? { nulls: batchNulls } : {}) };
      },
    };
  });
  return { layouts, tables };
}
