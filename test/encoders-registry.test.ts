import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { checkOutput, encoderFor, outputFormats, partExtension } from '../src/encoders/index.js';
import { destinationKinds, encodeTo, openDestination, openPart, type Destination } from '../src/destinations/index.js';
import type { Compression, OutputFormat } from '../src/encoders/types.js';
import { VITALS_SCHEMA, vitalsBatch } from './support/vitals-batches.js';

/** An in-memory Destination: what a later kind (encrypted file, COPY stream) plugs in as. */
class MemoryDestination implements Destination {
  chunks: Buffer[] = [];
  state: 'open' | 'committed' | 'aborted' = 'open';
  failWrites = false;
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failWrites) throw new Error('disk full');
    this.chunks.push(Buffer.from(chunk));
  }
  async commit() {
    this.state = 'committed';
    const all = Buffer.concat(this.chunks);
    return { bytes: all.length, sha256: createHash('sha256').update(all).digest('hex') };
  }
  async abort() {
    this.state = 'aborted';
  }
}

describe('encoder registry', () => {
  it('lists every format with its compressions, default first', () => {
    assert.deepEqual(outputFormats(), [
      { format: 'parquet', compressions: ['zstd', 'snappy', 'gzip', 'none'], defaultCompression: 'zstd' },
      { format: 'csv', compressions: ['none', 'gzip'], defaultCompression: 'none' },
      { format: 'ndjson', compressions: ['none', 'gzip'], defaultCompression: 'none' },
      { format: 'fhir', compressions: ['none', 'gzip'], defaultCompression: 'none' },
      { format: 'fhir-bulk', compressions: ['none', 'gzip'], defaultCompression: 'none' },
    ]);
  });

  it('partExtension of every allowed pair (as src/engine/job-files.ts had them), and rejects the others', () => {
    const seen: string[] = [];
    for (const { format, compressions } of outputFormats()) {
      for (const c of compressions) seen.push(partExtension(format, c));
    }
    assert.deepEqual(seen, ['.parquet', '.parquet', '.parquet', '.parquet', '.csv', '.csv.gz', '.ndjson', '.ndjson.gz', '.ndjson', '.ndjson.gz', '.ndjson', '.ndjson.gz']);
    assert.throws(() => partExtension('csv', 'zstd'), /output\.compression "zstd" is not supported for csv/);
  });

  it('names output.format / output.compression in its errors', () => {
    assert.throws(() => encoderFor('xml'), /unsupported output\.format "xml"/);
    assert.throws(() => checkOutput('parquet', 'lz4'), /output\.compression "lz4"/);
    assert.equal(checkOutput('ndjson', 'gzip').format, 'ndjson');
  });
});

describe('JSON documents (fhir, fhir-bulk)', () => {
  const docs = (start: number, values: string[]) => ({ start, length: values.length, columns: [{ kind: 'plain' as const, values }] });
  for (const compression of ['none', 'gzip'] as Compression[]) {
    it(`writes each document as one line (${compression}), counts rows, and takes only one string column`, async () => {
      const mem = new MemoryDestination();
      const schema = [{ name: 'record', type: 'string' as const }];
      const sink = await encodeTo(mem, { format: 'fhir-bulk', compression, schema });
      await sink.write(docs(0, ['{"resourceType":"Patient","id":"a"}', '{"resourceType":"Patient","id":"é"}']));
      await sink.write(docs(2, []));
      await sink.write(docs(2, ['{}']));
      const r = await sink.finish();
      assert.equal(r.rows, 3);
      const bytes = Buffer.concat(mem.chunks);
      const text = (compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
      assert.equal(text, '{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"é"}\n{}\n');
      await assert.rejects(encodeTo(new MemoryDestination(), { format: 'fhir', compression, schema: VITALS_SCHEMA }), /fhir parts take one string column of JSON documents/);
    });
  }
});

describe('destinations', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dest-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("'file' and 'encrypted-file' are registered; an unknown kind is an error", async () => {
    assert.deepEqual(destinationKinds().sort(), ['encrypted-file', 'file']);
    await assert.rejects(openDestination({ kind: 'postgres-copy' }), /unknown destination kind "postgres-copy"/);
  });

  it('a file destination commits atomically with the sha256 of its bytes, or leaves nothing', async () => {
    const path = join(dir, 'a', 'x.bin');
    const d = await openDestination({ kind: 'file', path });
    await d.write(Buffer.from('hello '));
    await d.write(Buffer.from('world'));
    assert.equal(existsSync(path), false);
    assert.deepEqual(await d.commit(), { bytes: 11, sha256: createHash('sha256').update('hello world').digest('hex') });
    assert.equal(await readFile(path, 'utf8'), 'hello world');

    const e = await openDestination({ kind: 'file', path: join(dir, 'b', 'y.bin') });
    await e.write(Buffer.from('partial'));
    await e.abort();
    await e.abort();
    assert.deepEqual(await readdir(join(dir, 'b')), []);
  });

  for (const [format, compression] of [['parquet', 'zstd'], ['csv', 'gzip'], ['ndjson', 'none']] as [OutputFormat, Compression][]) {
    it(`${format}/${compression} through another destination: the same bytes as openPart writes`, async () => {
      const mem = new MemoryDestination();
      const sink = await encodeTo(mem, { format, compression, schema: VITALS_SCHEMA, rowGroupRows: 700 });
      const path = join(dir, `same-${format}`);
      const file = await openPart({ path, format, compression, schema: VITALS_SCHEMA, rowGroupRows: 700 });
      for (const b of [vitalsBatch(0, 1000), vitalsBatch(1000, 2100)]) {
        await sink.write(b);
        await file.write(b);
      }
      const a = await sink.finish();
      const f = await file.finish();
      assert.equal(mem.state, 'committed');
      assert.deepEqual(a, f);
      assert.deepEqual(Buffer.concat(mem.chunks), await readFile(path));
    });
  }

  it('a failing destination aborts the part, and the encoder is not reused', async () => {
    const mem = new MemoryDestination();
    const sink = await encodeTo(mem, { format: 'csv', compression: 'gzip', schema: VITALS_SCHEMA });
    mem.failWrites = true;
    await assert.rejects(
      (async () => {
        await sink.write(vitalsBatch(0, 100_000)); // > 1 MB of CSV: reaches the destination
        await sink.finish();
      })(),
      /disk full/,
    );
    assert.equal(mem.state, 'aborted');
    await assert.rejects(sink.write(vitalsBatch(0, 1)), /aborted/);
  });

  it('an encoder that cannot open aborts the destination', async () => {
    const mem = new MemoryDestination();
    await assert.rejects(encodeTo(mem, { format: 'parquet', compression: 'zstd', schema: VITALS_SCHEMA, rowGroupRows: 0 }), /rowGroupRows/);
    assert.equal(mem.state, 'aborted');
  });
});
