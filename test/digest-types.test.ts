import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TableDigest, digestRange } from '../src/data/digest.js';
import type { Batch, ColumnData, ColumnSchema, ColumnType } from '../src/data/batch.js';
import { createTrialTable, resolveTrialSpec, rulesModel } from '../src/kinds/trial/lib.js';
import { VITALS_SCHEMA, VITALS_SCHEMA_NULLABLE, vitalsBatch } from './support/vitals-batches.js';
import { DATE_EDGES, INT64_EDGES, TIMESTAMP_EDGES, typedBatch, typedSchema } from './support/typed-batches.js';

function digest(schema: ColumnSchema[], ...batches: Batch[]): string {
  const t = new TableDigest();
  for (const b of batches) t.add(b, schema);
  return t.toString();
}

/** A one-column, one-row batch. */
function one(type: ColumnType, data: ColumnData, isNull = false): { schema: ColumnSchema[]; batch: Batch } {
  return {
    schema: [{ name: 'x', type, nullable: true }],
    batch: { start: 0, length: 1, columns: [data], nulls: isNull ? [Uint8Array.of(1)] : undefined },
  };
}

const d1 = (type: ColumnType, data: ColumnData, isNull = false) => {
  const { schema, batch } = one(type, data, isNull);
  return digest(schema, batch);
};

const uuid = (...bytes: number[]) => Uint8Array.from({ length: 16 }, (_, k) => bytes[k] ?? 0);

/** Values of each new type a null must differ from: zero-like values, edges, and the null words as a value. */
const VALUES: Record<'bool' | 'int64' | 'date' | 'timestamp' | 'uuid', ColumnData[]> = {
  bool: [Uint8Array.of(0), Uint8Array.of(1)],
  int64: INT64_EDGES.map((x) => Float64Array.of(x)),
  date: [...DATE_EDGES, 0x6e756c6c, 0x7ff4dead | 0].map((x) => Int32Array.of(x)),
  timestamp: TIMESTAMP_EDGES.map((x) => Float64Array.of(x)),
  uuid: [uuid(), uuid(...Array(16).fill(0xff)), uuid(0x6e, 0x75, 0x6c, 0x6c, 0x7f, 0xf4, 0xde, 0xad), uuid(0, 0, 0, 1)],
};

describe('digest of the new column types', () => {
  it('existing digests of string / int32 / float64 columns are unchanged', () => {
    // Values computed before bool/int64/date/timestamp/uuid existed (commit 2a24eff); the trial digest
    // re-pinned deliberately when trial sampling became truncated instead of clamped (issue 13).
    const spec = resolveTrialSpec({ method: 'rules', nPerArm: 1000, seed: 11 });
    const gen = createTrialTable(spec, rulesModel(spec.visits, spec.arms));
    assert.equal(digestRange(gen, 0, gen.rows).toString(), 'sf1-fb1919d495d708534bea52396003944b');
    assert.equal(digest(VITALS_SCHEMA, vitalsBatch(0, 5000)), 'sf1-f7ecc498bc3ec18f9fb55e2b173421a7');
    assert.equal(digest(VITALS_SCHEMA_NULLABLE, vitalsBatch(0, 5000, { nulls: true })), 'sf1-96df1a9c1736e62612a3c6882c5a43df');
  });

  for (const nulls of [false, true]) {
    it(`the same rows in other batch splits give the same digest${nulls ? ' (with nulls)' : ''}`, () => {
      const schema = typedSchema(nulls);
      const whole = digest(schema, typedBatch(0, 3000, { nulls }));
      for (const cuts of [[0, 1, 3000], [0, 1499, 1500, 2048, 3000], [0, 2999, 3000]]) {
        const parts = cuts.slice(1).map((end, i) => typedBatch(cuts[i], end, { nulls }));
        assert.equal(digest(schema, ...parts), whole, `cuts ${cuts}`);
        // Merged per shard, in reverse order.
        const merged = new TableDigest();
        for (const p of parts.reverse()) merged.merge(digest(schema, p));
        assert.equal(merged.toString(), whole);
      }
      assert.notEqual(digest(schema, typedBatch(0, 3000, { nulls: !nulls })), whole);
    });
  }

  for (const [type, values] of Object.entries(VALUES) as [keyof typeof VALUES, ColumnData[]][]) {
    it(`${type}: a null differs from every value, and different values differ`, () => {
      const nullD = d1(type, values[0], true);
      const seen = new Set<string>();
      for (const v of values) {
        const d = d1(type, v);
        assert.notEqual(d, nullD, `${type} ${v}`);
        assert.ok(!seen.has(d), `${type} ${v} collides with another value`);
        seen.add(d);
        // Whatever sits in a null slot does not matter.
        assert.equal(d1(type, v, true), nullD);
      }
    });
  }

  it('canonical words: bool true is any non-zero byte; int64 and timestamp hash as float64 with decimals 0; date as int32', () => {
    assert.equal(d1('bool', Uint8Array.of(7)), d1('bool', Uint8Array.of(1)));
    assert.notEqual(d1('bool', Uint8Array.of(0)), d1('bool', Uint8Array.of(1)));
    for (const x of INT64_EDGES) {
      const f = digest([{ name: 'x', type: 'float64', decimals: 0 }], { start: 0, length: 1, columns: [Float64Array.of(x)] });
      assert.equal(d1('int64', Float64Array.of(x)), f, `int64 ${x}`);
      assert.equal(d1('timestamp', Float64Array.of(x)), f, `timestamp ${x}`);
    }
    for (const x of DATE_EDGES) assert.equal(d1('date', Int32Array.of(x)), d1('int32', Int32Array.of(x)));
  });

  it('uuid: every byte counts, in order', () => {
    const base = d1('uuid', uuid());
    const seen = new Set([base]);
    for (let k = 0; k < 16; k++) {
      const u = uuid();
      u[k] = 1;
      const d = d1('uuid', u);
      assert.ok(!seen.has(d), `byte ${k}`);
      seen.add(d);
    }
    // Row i's uuid is bytes [16 i, 16 i + 16) of the column.
    const two = new Uint8Array(32);
    two[16] = 9;
    const schema: ColumnSchema[] = [{ name: 'x', type: 'uuid' }];
    assert.equal(digest(schema, { start: 0, length: 2, columns: [two] }), digest(schema, { start: 0, length: 1, columns: [uuid()] }, { start: 1, length: 1, columns: [uuid(9)] }));
  });

  it('rejects values the type cannot hold, and the wrong array', () => {
    assert.throws(() => d1('int64', Float64Array.of(2 ** 53)), /not a safe integer/);
    assert.throws(() => d1('timestamp', Float64Array.of(0.5)), /not a safe integer/);
    assert.doesNotThrow(() => d1('int64', Float64Array.of(2 ** 53), true)); // a null slot may hold anything
    assert.throws(() => d1('uuid', new Uint8Array(15)), /16 bytes per row/);
    assert.throws(() => d1('bool', Int32Array.of(1)), /not a Uint8Array/);
    assert.throws(() => d1('date', Float64Array.of(1)), /not an Int32Array/);
  });

  it('the fused row-major path (WASM and JS) gives the column-by-column digest for every type, with and without nulls', () => {
    const cases: Array<[ColumnSchema[], Batch[]]> = [
      [typedSchema(false), [typedBatch(0, 3000)]],
      [typedSchema(true), [typedBatch(0, 3000, { nulls: true })]],
      [typedSchema(true), [typedBatch(0, 3000)]],
    ];
    const { wasm, fused } = TableDigest;
    try {
      for (const [schema, batches] of cases) {
        TableDigest.fused = false;
        const byColumn = digest(schema, ...batches);
        TableDigest.fused = true;
        for (const w of [true, false]) {
          TableDigest.wasm = w;
          assert.equal(digest(schema, ...batches), byColumn, `wasm ${w}`);
        }
      }
    } finally {
      TableDigest.wasm = wasm;
      TableDigest.fused = fused;
    }
  });
});
