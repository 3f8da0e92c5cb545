import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanTempFiles, isTempFileName, openPart, type OutputFormat } from '../src/destinations/index.js';
import { VITALS_SCHEMA, vitalsBatch } from './support/vitals-batches.js';

describe('sinks: atomic parts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sinks-life-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const format of ['parquet', 'csv', 'ndjson'] as OutputFormat[]) {
    it(`${format}: nothing at the final path until finish(), parent dirs created`, async () => {
      const sub = join(dir, format, 'a', 'b');
      const path = join(sub, 'part-00001');
      const sink = await openPart({ path, format, compression: format === 'parquet' ? 'zstd' : 'gzip', schema: VITALS_SCHEMA, rowGroupRows: 100 });
      await sink.write(vitalsBatch(0, 1000));
      assert.equal(existsSync(path), false);
      const names = await readdir(sub);
      assert.equal(names.length, 1);
      assert.ok(isTempFileName(names[0]), names[0]);
      assert.ok(names[0].startsWith('.part-00001.tmp-'), names[0]);
      const res = await sink.finish();
      assert.equal(res.rows, 1000);
      assert.deepEqual(await readdir(sub), ['part-00001']);
      await assert.rejects(sink.write(vitalsBatch(0, 1)), /finished/);
    });

    it(`${format}: abort() leaves nothing`, async () => {
      const sub = join(dir, `abort-${format}`);
      const sink = await openPart({ path: join(sub, 'p'), format, compression: 'none', schema: VITALS_SCHEMA });
      await sink.write(vitalsBatch(0, 5000));
      await sink.abort();
      await sink.abort(); // idempotent
      assert.deepEqual(await readdir(sub), []);
      await assert.rejects(sink.finish(), /aborted/);
    });
  }

  it('a failing write aborts the part (nulls in a non-nullable column)', async () => {
    const sub = join(dir, 'bad');
    const sink = await openPart({ path: join(sub, 'p.parquet'), format: 'parquet', compression: 'zstd', schema: VITALS_SCHEMA });
    const b = vitalsBatch(0, 10);
    b.nulls = [new Uint8Array(10).fill(1)];
    await assert.rejects(sink.write(b), /not nullable/);
    assert.deepEqual(await readdir(sub), []);
  });

  it('rejects compressions a text format cannot do, naming output.compression', async () => {
    for (const compression of ['zstd', 'snappy'] as const) {
      for (const format of ['csv', 'ndjson'] as const) {
        await assert.rejects(openPart({ path: join(dir, 'x', 'p'), format, compression, schema: VITALS_SCHEMA }), /output\.compression/);
      }
    }
    assert.equal(existsSync(join(dir, 'x')), false);
  });

  it('cleanTempFiles removes what a crashed writer left, and only that', async () => {
    const sub = join(dir, 'crash');
    // An unfinished writer (as if the process died mid-part).
    const sink = await openPart({ path: join(sub, 'part-7.parquet'), format: 'parquet', compression: 'zstd', schema: VITALS_SCHEMA });
    await sink.write(vitalsBatch(0, 100));
    await writeFile(join(sub, '.part-3.csv.tmp-12345-abcdef012345'), 'junk');
    await writeFile(join(sub, 'part-1.parquet'), 'a finished part');
    await writeFile(join(sub, 'notes.tmp-1-2'), 'not ours');
    const names = (await readdir(sub)).sort();
    assert.equal(names.filter(isTempFileName).length, 2);

    // olderThanMs spares fresh files...
    assert.deepEqual(await cleanTempFiles(sub, { olderThanMs: 60_000 }), []);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(sub, '.part-3.csv.tmp-12345-abcdef012345'), old, old);
    assert.deepEqual(await cleanTempFiles(sub, { olderThanMs: 60_000 }), ['.part-3.csv.tmp-12345-abcdef012345']);
    // ...and without it every temp file goes.
    const removed = await cleanTempFiles(sub);
    assert.equal(removed.length, 1);
    assert.ok(removed[0].startsWith('.part-7.parquet.tmp-'));
    assert.deepEqual((await readdir(sub)).sort(), ['notes.tmp-1-2', 'part-1.parquet']);
    await sink.abort(); // its temp file is already gone: still fine
    assert.deepEqual(await cleanTempFiles(join(dir, 'does-not-exist')), []);
  });
});
