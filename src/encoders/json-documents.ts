/**
 * Formats whose rows are JSON documents a kind has already built (FHIR R4 resources and Bundles):
 * the batch has one string column, each value one JSON document, written one per line (NDJSON, as
 * FHIR Bulk Data and most FHIR servers' bulk import read it), optionally gzipped. The encoder
 * checks nothing about FHIR: the kind makes the documents (src/kinds/patients/fhir.ts).
 */
import type { Batch, ColumnSchema } from '../data/batch.js';
import { GzipOut } from './compress.js';
import { registerEncoder } from './registry.js';
import { DEFAULT_TEXT_GZIP_LEVEL } from './text.js';
import type { ByteOut, Compression, Encoder, EncoderFactory, EncoderOptions, OutputFormat } from './types.js';

/** Bytes gathered before a write to the destination. */
const FLUSH_AT = 1 << 20;

class JsonDocumentsEncoder implements Encoder {
  rows = 0;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly out: ByteOut,
    private readonly gz: GzipOut | undefined,
  ) {}

  async write(batch: Batch): Promise<void> {
    const col = batch.columns[0];
    if (!col || ArrayBuffer.isView(col) || col.kind !== 'plain') throw new Error('a JSON-documents part takes one plain string column of JSON texts');
    for (let i = 0; i < batch.length; i++) {
      const doc = col.values[i]!;
      this.pending.push(doc);
      this.pendingBytes += doc.length + 1;
      if (this.pendingBytes >= FLUSH_AT) await this.flush();
    }
    this.rows += batch.length;
  }

  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const chunk = Buffer.from(this.pending.join('\n') + '\n', 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    await (this.gz ?? this.out).write(chunk);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.gz?.end();
  }

  destroy(): void {
    this.pending = [];
    this.gz?.destroy();
  }
}

function jsonDocuments(format: OutputFormat): EncoderFactory {
  const compressions: readonly Compression[] = ['none', 'gzip'];
  return {
    format,
    compressions,
    extension: (c) => (c === 'gzip' ? '.ndjson.gz' : '.ndjson'),
    async open(out: ByteOut, schema: readonly ColumnSchema[], opts: EncoderOptions): Promise<Encoder> {
      if (schema.length !== 1 || schema[0]!.type !== 'string') throw new Error(`${format} parts take one string column of JSON documents`);
      const gz = opts.compression === 'gzip' ? new GzipOut(out, opts.compressionLevel ?? DEFAULT_TEXT_GZIP_LEVEL) : undefined;
      return new JsonDocumentsEncoder(out, gz);
    },
  };
}

/** FHIR R4 `transaction` Bundles, one per line. */
registerEncoder(jsonDocuments('fhir'));
/** FHIR Bulk Data: resources of one type per file, one per line. */
registerEncoder(jsonDocuments('fhir-bulk'));
