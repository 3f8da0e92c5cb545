import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { stringAt, type Batch, type ColumnData, type ColumnSchema, type StringColumn } from '../src/data/batch.js';
import { openPart, type Compression, type OutputFormat } from '../src/destinations/index.js';
import { VITALS_SCHEMA, VITALS_SCHEMA_NULLABLE, vitalsBatch } from './support/vitals-batches.js';
import { readParquetMetadata, readParquetRows } from './support/parquet.js';
import { typedBatch, typedSchema } from './support/typed-batches.js';
import { numberDictOptions } from '../src/encoders/number-dict.js';
import { DICT_MAX_ENTRIES } from '../src/encoders/parquet.js';

type Value = string | number | boolean | null;

function uuidText(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Reference renderings through Date (independent of the writer's own date arithmetic). */
function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().split('T')[0];
}

function isoTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  const sub = String(us - ms * 1000).padStart(3, '0');
  return new Date(ms).toISOString().replace(/Z$/, `${sub}Z`);
}

/** The logical value of row i: bool as boolean, uuid as its text, date/timestamp as numbers. */
function cellValue(s: ColumnSchema, col: ColumnData, i: number): Value {
  switch (s.type) {
    case 'string': {
      const sc = col as StringColumn;
      return stringAt(sc, i);
    }
    case 'bool':
      return (col as Uint8Array)[i] !== 0;
    case 'uuid':
      return uuidText((col as Uint8Array).subarray(16 * i, 16 * i + 16));
    default:
      return (col as Int32Array | Float64Array)[i];
  }
}

/** Expected logical rows of a batch stream. */
function expectedRows(schema: ColumnSchema[], batches: Batch[]): Value[][] {
  const rows: Value[][] = [];
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) rows.push(schema.map((s, c) => (b.nulls?.[c]?.[i] ? null : cellValue(s, b.columns[c], i))));
  }
  return rows;
}

/** RFC 4180 parser; an unquoted empty field is null, a quoted one is ''. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, 'unterminated quote');
        s += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          s += '"';
          i++;
        } else break;
      }
      field = s;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++;
      field = j === i ? null : text.slice(i, j);
      assert.ok(!field?.includes('"') && !field?.includes('\r'), `bare quote or CR in ${field}`);
      i = j;
    }
    row.push(field);
    if (text[i] === ',') i++;
    else {
      assert.equal(text[i], '\n');
      i++;
      rows.push(row);
      row = [];
    }
  }
  assert.equal(row.length, 0, 'last line must end with \\n');
  return rows;
}

function csvText(schema: ColumnSchema[], v: Value, c: number): string | null {
  if (v === null) return null;
  const s = schema[c];
  if (s.type === 'float64') return s.decimals !== undefined ? (v as number).toFixed(s.decimals) : String(v);
  if (s.type === 'date') return isoDate(v as number);
  if (s.type === 'timestamp') return isoTimestamp(v as number);
  return String(v);
}

/** What JSON.parse of an NDJSON line gives for a value. */
function jsonValue(s: ColumnSchema, v: Value): Value {
  if (v === null) return null;
  if (s.type === 'float64' && s.decimals !== undefined) return Number((v as number).toFixed(s.decimals));
  if (s.type === 'date') return isoDate(v as number);
  if (s.type === 'timestamp') return isoTimestamp(v as number);
  return v;
}

async function readText(path: string, compression: Compression): Promise<string> {
  const raw = await readFile(path);
  return (compression === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

/** A small schema exercising awkward strings, nulls in every column kind and float formatting. */
const TRICKY_SCHEMA: ColumnSchema[] = [
  { name: 'id', type: 'int32' },
  { name: 'text', type: 'string', nullable: true },
  { name: 'cat', type: 'string', nullable: true },
  { name: 'x', type: 'float64', decimals: 2, nullable: true },
  { name: 'raw', type: 'float64' },
  { name: 'n', type: 'int32', nullable: true },
  { name: 'weird, "name"', type: 'string' },
];

function trickyBatches(): Batch[] {
  const texts = ['plain', 'with,comma', 'with "quote"', 'line\nbreak', 'cr\r\nlf', '', 'ünïcødé ✓ 𝄞', ' spaced ', 'a'.repeat(300)];
  const cats = ['α', 'b,c', '"q"', ''];
  const xs = [0, -0.004, 1.005, 2.675, -1234.5, 1e-7, 36.6, 99999.999, -0.5];
  const batches: Batch[] = [];
  let start = 0;
  for (const len of [7, 0, 13, 40]) {
    const id = new Int32Array(len);
    const text: string[] = [];
    const cat = new Uint32Array(len);
    const x = new Float64Array(len);
    const raw = new Float64Array(len);
    const n = new Int32Array(len);
    const other: string[] = [];
    const nt = new Uint8Array(len);
    const nc = new Uint8Array(len);
    const nx = new Uint8Array(len);
    const nn = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const r = start + i;
      id[i] = r;
      text.push(texts[r % texts.length]);
      cat[i] = r % cats.length;
      x[i] = xs[r % xs.length];
      raw[i] = r % 5 === 0 ? 0.1 + 0.2 : -r / 7;
      n[i] = r % 3 === 0 ? -2147483648 : r % 3 === 1 ? 2147483647 : -r;
      other.push(r % 2 ? 'x' : 'y');
      nt[i] = r % 4 === 1 ? 1 : 0;
      nc[i] = r % 5 === 2 ? 1 : 0;
      nx[i] = r % 6 === 3 ? 1 : 0;
      nn[i] = 1; // n is null everywhere in these batches except where reset below
      if (r % 7 === 0) nn[i] = 0;
    }
    batches.push({
      start,
      length: len,
      columns: [id, { kind: 'plain', values: text }, { kind: 'dict', dictionary: cats, codes: cat }, x, raw, n, { kind: 'plain', values: other }],
      nulls: [undefined, nt, nc, nx, undefined, nn, undefined],
    });
    start += len;
  }
  return batches;
}

const FORMATS: [OutputFormat, Compression][] = [
  ['parquet', 'zstd'],
  ['parquet', 'snappy'],
  ['parquet', 'gzip'],
  ['parquet', 'none'],
  ['csv', 'none'],
  ['csv', 'gzip'],
  ['ndjson', 'none'],
  ['ndjson', 'gzip'],
];

describe('sinks: round trip of every value', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sinks-rt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const datasets: { name: string; schema: ColumnSchema[]; batches: () => Batch[] }[] = [
    {
      name: 'vitals',
      schema: VITALS_SCHEMA,
      batches: () => [vitalsBatch(0, 1500), vitalsBatch(1500, 1501), vitalsBatch(1501, 4100)],
    },
    {
      name: 'vitals+nulls',
      schema: VITALS_SCHEMA_NULLABLE,
      batches: () => [vitalsBatch(0, 2222, { nulls: true }), vitalsBatch(2222, 5000, { nulls: true })],
    },
    { name: 'tricky', schema: TRICKY_SCHEMA, batches: trickyBatches },
    {
      name: 'types',
      schema: typedSchema(false),
      batches: () => [typedBatch(0, 700), typedBatch(700, 701), typedBatch(701, 701), typedBatch(701, 2600)],
    },
    {
      name: 'types+nulls',
      schema: typedSchema(true),
      batches: () => [typedBatch(0, 999, { nulls: true }), typedBatch(999, 3100, { nulls: true })],
    },
  ];

  for (const ds of datasets) {
    for (const [format, compression] of FORMATS) {
      it(`${ds.name} as ${format}/${compression}`, async () => {
        const batches = ds.batches();
        const expected = expectedRows(ds.schema, batches);
        const path = join(dir, ds.name, `part-0.${format}.${compression}`);
        const sink = await openPart({ path, format, compression, schema: ds.schema, rowGroupRows: 1000 });
        for (const b of batches) await sink.write(b);
        const res = await sink.finish();

        const bytes = await readFile(path);
        assert.equal(res.rows, expected.length);
        assert.equal(res.bytes, bytes.length);
        assert.equal(res.bytes, (await stat(path)).size);
        assert.equal(res.sha256, createHash('sha256').update(bytes).digest('hex'));
        assert.deepEqual((await readdir(join(dir, ds.name))).filter((f) => f.includes('.tmp-')), []);

        if (format === 'parquet') {
          assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
          const rows = await readParquetRows(path);
          assert.equal(rows.length, expected.length);
          rows.forEach((r, i) => {
            const got = ds.schema.map((s) => (typeof r[s.name] === 'bigint' ? Number(r[s.name]) : r[s.name]));
            for (const s of ds.schema) if (typeof r[s.name] === 'bigint') assert.ok(s.type === 'int64' || s.type === 'timestamp', s.name);
            assert.deepEqual(got, expected[i], `row ${i}`);
          });
        } else if (format === 'csv') {
          const lines = parseCsv(await readText(path, compression));
          assert.deepEqual(lines[0], ds.schema.map((s) => s.name));
          assert.equal(lines.length - 1, expected.length);
          expected.forEach((e, i) => {
            assert.deepEqual(lines[i + 1], e.map((v, c) => csvText(ds.schema, v, c)), `row ${i}`);
          });
        } else {
          const text = await readText(path, compression);
          assert.ok(text.endsWith('\n'));
          const lines = text.slice(0, -1).split('\n');
          if (expected.length === 0) lines.length = 0;
          assert.equal(lines.length, expected.length);
          expected.forEach((e, i) => {
            const obj = JSON.parse(lines[i]) as Record<string, Value>;
            assert.deepEqual(Object.keys(obj), ds.schema.map((s) => s.name));
            ds.schema.forEach((s, c) => assert.deepEqual(obj[s.name], jsonValue(s, e[c]), `row ${i} ${s.name}`));
            // decimals are printed exactly
            for (const s of ds.schema) {
              if (s.type !== 'float64' || s.decimals === undefined || obj[s.name] === null) continue;
              const m = new RegExp(`${JSON.stringify(s.name)}:(-?[0-9.]+)`).exec(lines[i]);
              assert.ok(m, lines[i]);
              assert.equal(m[1], (e[ds.schema.indexOf(s)] as number).toFixed(s.decimals));
            }
          });
        }
      });
    }
  }

  it('parquet: an empty part is valid', async () => {
    const path = join(dir, 'empty', 'p.parquet');
    const sink = await openPart({ path, format: 'parquet', compression: 'zstd', schema: VITALS_SCHEMA });
    const res = await sink.finish();
    assert.equal(res.rows, 0);
    assert.deepEqual(await readParquetRows(path), []);
  });

  it('parquet: `sorted` dictionaries give the same bytes as without the hint, whatever follows them', async () => {
    const schema: ColumnSchema[] = [{ name: 'id', type: 'string' }];
    const long = 'x'.repeat(70);
    const dict = (dictionary: string[], codes: number[]): StringColumn => ({ kind: 'dict', dictionary, codes: Uint32Array.from(codes), sorted: true });
    const cols: StringColumn[] = [
      dict(['a01', 'a02', 'a03'], [0, 0, 1, 2]),
      dict(['a03', 'a04'], [0, 0, 1]), // first entry = the last one before
      dict(['a02', 'a05', long], [0, 1, 2]), // not after the last one: deduplicated by lookup
      { kind: 'plain', values: ['a01', 'zz', 'é', 'a05'] },
      dict(['a06', 'a07'], [1, 0]),
      dict(['b', 'c', 'ü'], [2, 1, 0, 0]),
    ];
    const batches = (hint: boolean): Batch[] => {
      let start = 0;
      return cols.map((c) => {
        const col = c.kind === 'dict' && !hint ? { kind: 'dict' as const, dictionary: c.dictionary, codes: c.codes } : c;
        const length = c.kind === 'dict' ? c.codes.length : (c as { values: string[] }).values.length;
        const b: Batch = { start, length, columns: [col] };
        start += length;
        return b;
      });
    };
    const files: Buffer[] = [];
    for (const [k, rowGroupRows] of [[0, 1000], [1, 1000], [2, 5], [3, 5]] as const) {
      const path = join(dir, 'sorted', `p${k}.parquet`);
      const sink = await openPart({ path, format: 'parquet', compression: 'none', schema, rowGroupRows });
      for (const b of batches(k % 2 === 0)) await sink.write(b);
      await sink.finish();
      files.push(await readFile(path));
      const expected = expectedRows(schema, batches(false)).map((r) => r[0]);
      assert.deepEqual((await readParquetRows(path)).map((r) => r.id), expected);
    }
    assert.ok(files[0].equals(files[1]), 'one row group');
    assert.ok(files[2].equals(files[3]), 'row groups of 5');
  });

  it('parquet: narrow int32 / decimal float64 chunks are dictionary-encoded, others PLAIN; same values either way', async () => {
    const schema: ColumnSchema[] = [
      { name: 'narrow', type: 'int32' },
      { name: 'wide', type: 'int32' },
      { name: 't', type: 'float64', decimals: 1 },
      { name: 'odd', type: 'float64', decimals: 1 },
      { name: 'raw', type: 'float64' },
    ];
    const n = 5000;
    const col = (f: (i: number) => number, T: typeof Int32Array | typeof Float64Array) => {
      const a = new T(n);
      for (let i = 0; i < n; i++) a[i] = f(i);
      return a;
    };
    const batch: Batch = {
      start: 0,
      length: n,
      columns: [
        col((i) => -20 + ((i * 7) % 90), Int32Array),
        col((i) => (i * 2654435761) | 0, Int32Array),
        col((i) => Math.round(350 + ((i * 13) % 50)) / 10, Float64Array),
        col((i) => (i === 77 ? 36.70000000000001 : i === 78 ? -0 : Math.round(i % 40) / 10), Float64Array),
        col((i) => i / 3, Float64Array),
      ],
    };
    const meta = async (path: string) => ((await readParquetMetadata(path)) as any).row_groups.flatMap((g: any) => g.columns.map((c: any) => c.meta_data.encodings.includes('RLE_DICTIONARY')));
    const rows: unknown[][] = [];
    for (const on of [true, false]) {
      numberDictOptions.enabled = on;
      try {
        const path = join(dir, 'numdict', `p-${on}.parquet`);
        const sink = await openPart({ path, format: 'parquet', compression: 'zstd', schema, rowGroupRows: 2000 });
        await sink.write(batch);
        await sink.finish();
        rows.push((await readParquetRows(path)).map((r) => schema.map((s) => r[s.name])));
        // per row group: narrow, wide, t, odd, raw
        assert.deepEqual(await meta(path), on ? [true, false, true, false, false, true, false, true, true, false, true, false, true, true, false] : new Array(15).fill(false));
      } finally {
        numberDictOptions.enabled = true;
      }
    }
    assert.deepEqual(rows[0], rows[1]);
    assert.deepEqual(rows[0], expectedRows(schema, [batch]));
    assert.ok(Object.is(rows[0][78][3], -0));
  });

  it('utf8 string columns: the same CSV and NDJSON bytes, Parquet values and digest as the same strings as plain', async () => {
    const values = ['plain', '', 'comma,here', 'quote"d', 'new\nline', 'cr\rx', 'tab\tand\\back', 'é à ü', '日本語', 'emoji 😀 pair', '\u0001\u001f ctl', 'x'.repeat(100)];
    const n = values.length * 3;
    const vals = Array.from({ length: n }, (_, i) => values[i % values.length]!);
    const nulls = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 1 : 0));
    const enc = new TextEncoder();
    const parts = vals.map((v) => enc.encode(v));
    const offsets = new Uint32Array(n + 1);
    parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
    const bytes = new Uint8Array(offsets[n]!);
    parts.forEach((p, i) => bytes.set(p, offsets[i]!));
    const schema: ColumnSchema[] = [{ name: 's', type: 'string', nullable: true }];
    const asPlain: Batch = { start: 0, length: n, columns: [{ kind: 'plain', values: vals }], nulls: [nulls] };
    const asUtf8: Batch = { start: 0, length: n, columns: [{ kind: 'utf8', bytes, offsets }], nulls: [nulls] };
    const { TableDigest } = await import('../src/data/digest.js');
    const digest = (b: Batch) => {
      const d = new TableDigest();
      d.add(b, schema);
      return d.toString();
    };
    assert.equal(digest(asUtf8), digest(asPlain));
    for (const format of ['csv', 'ndjson', 'parquet'] as const) {
      const out: Buffer[] = [];
      for (const [name, b] of [['plain', asPlain], ['utf8', asUtf8]] as const) {
        const path = join(dir, 'utf8', `${name}.${format}`);
        const sink = await openPart({ path, format, compression: 'none', schema });
        await sink.write(b);
        await sink.finish();
        out.push(await readFile(path));
        if (format === 'parquet') {
          const rows = await readParquetRows(path);
          assert.deepEqual(rows.map((r) => r.s), vals.map((v, i) => (nulls[i] ? null : v)), `${name} parquet values`);
        }
      }
      if (format !== 'parquet') assert.equal(out[1]!.toString('utf8'), out[0]!.toString('utf8'), `${format} bytes`);
    }
  });

  it('parquet: a string chunk past DICT_MAX_ENTRIES distinct values is PLAIN, the others stay dictionary-encoded', async () => {
    const schema: ColumnSchema[] = [
      { name: 'few', type: 'string' },
      { name: 'unique', type: 'string', nullable: true },
      { name: 'dict_big', type: 'string' },
    ];
    const n = 3 * DICT_MAX_ENTRIES;
    const big = Array.from({ length: DICT_MAX_ENTRIES + 5 }, (_, k) => `d${k}é`);
    const batch = (start: number, end: number): Batch => ({
      start,
      length: end - start,
      columns: [
        { kind: 'plain', values: Array.from({ length: end - start }, (_, i) => ['a', 'b', 'c'][(start + i) % 3]!) },
        { kind: 'plain', values: Array.from({ length: end - start }, (_, i) => `user-${start + i}@example.com`) },
        { kind: 'dict', dictionary: big, codes: Uint32Array.from({ length: end - start }, (_, i) => (start + i) % big.length) },
      ],
      nulls: [undefined, Uint8Array.from({ length: end - start }, (_, i) => ((start + i) % 10 === 0 ? 1 : 0)), undefined],
    });
    for (const compression of ['none', 'zstd'] as const) {
      const path = join(dir, 'plain-strings', `p-${compression}.parquet`);
      // Rows group A: [0, 2·MAX) switches `unique` to PLAIN halfway, inside a batch; group B: the rest.
      const sink = await openPart({ path, format: 'parquet', compression, schema, rowGroupRows: 2 * DICT_MAX_ENTRIES });
      const batches = [batch(0, 1000), batch(1000, n)];
      for (const b of batches) await sink.write(b);
      await sink.finish();
      const meta = await readParquetMetadata(path);
      const dictEncoded = meta.row_groups.map((g: any) => g.columns.map((c: any) => c.meta_data.encodings.includes('RLE_DICTIONARY')));
      // Group B has fewer distinct values than DICT_MAX_ENTRIES, but with a codec `unique` and
      // `dict_big` (more than one distinct value per 8 rows) are PLAIN: a codec compresses that better.
      assert.deepEqual(dictEncoded, [
        [true, false, false],
        compression === 'none' ? [true, true, true] : [true, false, false],
      ]);
      const rows = await readParquetRows(path);
      assert.deepEqual(
        rows.map((r) => schema.map((s) => r[s.name])),
        expectedRows(schema, batches),
      );
    }
  });

  it('parquet: many row groups, large dictionaries, default settings', async () => {
    const path = join(dir, 'big', 'p.parquet');
    const sink = await openPart({ path, format: 'parquet', compression: 'zstd', schema: VITALS_SCHEMA_NULLABLE, rowGroupRows: 30_000 });
    const batches = [vitalsBatch(0, 50_000, { nulls: true }), vitalsBatch(50_000, 100_003, { nulls: true })];
    for (const b of batches) await sink.write(b);
    await sink.finish();
    const rows = await readParquetRows(path);
    const expected = expectedRows(VITALS_SCHEMA_NULLABLE, batches);
    assert.equal(rows.length, expected.length);
    for (let i = 0; i < rows.length; i++) {
      const got = VITALS_SCHEMA_NULLABLE.map((s) => rows[i][s.name]);
      assert.deepEqual(got, expected[i], `row ${i}`);
    }
  });

  it('parquet: physical, converted and logical types, statistics of every type', async () => {
    const schema = typedSchema(true);
    const path = join(dir, 'stats', 'p.parquet');
    const sink = await openPart({ path, format: 'parquet', compression: 'snappy', schema, rowGroupRows: 1000 });
    const batches = [typedBatch(0, 2500, { nulls: true })];
    for (const b of batches) await sink.write(b);
    await sink.finish();
    const meta = await readParquetMetadata(path);
    const el = (name: string) => meta.schema.find((e: { name: string }) => e.name === name);
    const types = Object.fromEntries(
      schema.map((s) => {
        const e = el(s.name);
        return [s.type === 'string' && s.name === 'c_dict' ? 'dict' : s.type, [e.type, e.type_length, e.converted_type, e.logical_type]];
      }),
    );
    assert.deepEqual(types, {
      string: ['BYTE_ARRAY', undefined, 'UTF8', { type: 'STRING' }],
      bool: ['BOOLEAN', undefined, undefined, undefined],
      int32: ['INT32', undefined, undefined, undefined],
      int64: ['INT64', undefined, undefined, undefined],
      float64: ['DOUBLE', undefined, undefined, undefined],
      date: ['INT32', undefined, 'DATE', { type: 'DATE' }],
      timestamp: ['INT64', undefined, 'TIMESTAMP_MICROS', { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }],
      uuid: ['FIXED_LEN_BYTE_ARRAY', 16, undefined, { type: 'UUID' }],
      dict: ['BYTE_ARRAY', undefined, 'UTF8', { type: 'STRING' }],
    });
    for (const e of meta.schema.slice(1)) assert.equal(e.repetition_type, 'OPTIONAL');

    const rows = expectedRows(schema, batches);
    assert.equal(meta.row_groups.length, 3);
    meta.row_groups.forEach((rg: any, g: number) => {
      const slice = rows.slice(g * 1000, (g + 1) * 1000);
      schema.forEach((s, c) => {
        const st = rg.columns[c].meta_data.statistics;
        const present = slice.map((r) => r[c]).filter((v) => v !== null);
        assert.equal(st.null_count, BigInt(slice.length - present.length), `${s.name} null_count`);
        const norm = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
        // Strings in the order of their UTF-8 bytes (Parquet's for STRING); uuid text sorts like its bytes.
        const order = s.type === 'string' ? (a: unknown, b: unknown) => Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) : (a: any, b: any) => (a < b ? -1 : a > b ? 1 : 0);
        const sorted = [...present].sort(order);
        assert.deepEqual([norm(st.min_value), norm(st.max_value)], [sorted[0], sorted[sorted.length - 1]], `${s.name} min/max, row group ${g}`);
      });
    });
  });

  it('parquet: a null-only row group has null counts and no min/max', async () => {
    const schema = typedSchema(true);
    const path = join(dir, 'allnull', 'p.parquet');
    const b = typedBatch(0, 10);
    b.nulls = schema.map(() => new Uint8Array(10).fill(1));
    const sink = await openPart({ path, format: 'parquet', compression: 'none', schema });
    await sink.write(b);
    await sink.finish();
    const meta = await readParquetMetadata(path);
    for (const col of meta.row_groups[0].columns) {
      assert.equal(col.meta_data.statistics.null_count, 10n);
      assert.equal(col.meta_data.statistics.min_value, undefined);
    }
    const rows = await readParquetRows(path);
    assert.deepEqual(rows, Array.from({ length: 10 }, () => Object.fromEntries(schema.map((s) => [s.name, null]))));
  });

  // Dictionary codes of 9, 16 and 17 bits: bit-packed runs and RLE runs whose values take 2 and 3 bytes.
  for (const distinct of [300, 65_536, 70_001]) {
    it(`parquet: a row group with ${distinct} distinct strings (dictionary codes of ${Math.ceil(Math.log2(distinct))} bits)`, async () => {
      const rowsN = 2 * distinct + 5000;
      const schema: ColumnSchema[] = [
        { name: 'k', type: 'string', nullable: true },
        { name: 'd', type: 'string' },
      ];
      const values: string[] = [];
      const nulls = new Uint8Array(rowsN);
      const codes = new Uint32Array(rowsN);
      const dictionary = Array.from({ length: distinct }, (_, k) => `d${k}`);
      for (let i = 0; i < rowsN; i++) {
        // Every value once in a scrambled order (bit-packed), then runs of 9 (RLE), then singles.
        const k = i < distinct ? (i * 7919) % distinct : i < 2 * distinct ? Math.floor(i / 9) % distinct : (i * 104729) % distinct;
        values.push(`v${k}`);
        codes[i] = distinct - 1 - k;
        nulls[i] = i % 97 === 5 ? 1 : 0;
      }
      // Every value must still occur once among non-null rows of column k.
      for (let i = 0; i < distinct; i++) if (nulls[i]) nulls[i] = 0;
      const batch: Batch = { start: 0, length: rowsN, columns: [{ kind: 'plain', values }, { kind: 'dict', dictionary, codes }], nulls: [nulls, undefined] };
      const path = join(dir, `wide-${distinct}`, 'p.parquet');
      const sink = await openPart({ path, format: 'parquet', compression: 'zstd', schema, rowGroupRows: rowsN });
      await sink.write(batch);
      await sink.finish();
      const rows = await readParquetRows(path);
      assert.equal(rows.length, rowsN);
      let distinctK = new Set<unknown>();
      for (let i = 0; i < rowsN; i++) {
        const want = nulls[i] ? null : values[i];
        if (rows[i].k !== want || rows[i].d !== dictionary[codes[i]]) assert.fail(`row ${i}: ${JSON.stringify(rows[i])}, want k=${want} d=${dictionary[codes[i]]}`);
        if (want !== null) distinctK.add(want);
      }
      assert.equal(distinctK.size, distinct);
      assert.equal((await readParquetMetadata(path)).row_groups.length, 1);
    });
  }

  for (const format of ['parquet', 'csv', 'ndjson'] as const) {
    it(`${format}: an int64 or timestamp that is not a safe integer fails the part, leaving nothing`, async () => {
      for (const [type, bad] of [['int64', 2 ** 53], ['timestamp', 1.5], ['int64', NaN]] as const) {
        const sub = join(dir, `unsafe-${format}-${type}-${bad}`);
        const schema: ColumnSchema[] = [{ name: 'x', type }];
        const sink = await openPart({ path: join(sub, 'p'), format, compression: 'none', schema });
        const x = Float64Array.from([1, 2, bad]);
        // Text fails in write(); Parquet when the row group is encoded (finish here).
        const err = await sink.write({ start: 0, length: 3, columns: [x] }).then(() => sink.finish()).then(() => undefined, (e: Error) => e);
        assert.match(String(err), /x: .* is not a safe integer/);
        assert.deepEqual(await readdir(sub), []);
      }
    });

    it(`${format}: a column in the wrong array type is rejected naming the column`, async () => {
      const sub = join(dir, `wrongtype-${format}`);
      const cases: [ColumnSchema, ColumnData][] = [
        [{ name: 'u', type: 'uuid' }, new Uint8Array(15)],
        [{ name: 'b', type: 'bool' }, new Int32Array(1)],
        [{ name: 'd', type: 'date' }, new Float64Array(1)],
        [{ name: 't', type: 'timestamp' }, new Int32Array(1)],
      ];
      for (const [s, data] of cases) {
        const sink = await openPart({ path: join(sub, s.name), format, compression: 'none', schema: [s] });
        await assert.rejects(sink.write({ start: 0, length: 1, columns: [data] }), new RegExp(`column ${s.name}: `));
      }
      assert.deepEqual(await readdir(sub), []);
    });
  }
});
