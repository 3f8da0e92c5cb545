import { ByteBuf } from './bytes.js';

/**
 * Minimal Thrift compact-protocol writer: just enough to emit Parquet page headers and the
 * file footer (FileMetaData). Structs are described as plain arrays of fields so the Parquet
 * code stays declarative; see parquet.ts for the field ids (parquet.thrift).
 */

export enum TType {
  BOOL_TRUE = 1,
  BOOL_FALSE = 2,
  BYTE = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  DOUBLE = 7,
  BINARY = 8,
  LIST = 9,
  SET = 10,
  MAP = 11,
  STRUCT = 12,
}

/** A struct field; `undefined` values are skipped (optional fields). */
export type TField =
  | { id: number; t: 'i32'; v: number | undefined }
  | { id: number; t: 'i64'; v: number | bigint | undefined }
  | { id: number; t: 'bool'; v: boolean | undefined }
  | { id: number; t: 'string'; v: string | undefined }
  | { id: number; t: 'binary'; v: Uint8Array | undefined }
  | { id: number; t: 'struct'; v: TField[] | undefined }
  | { id: number; t: 'list_i32'; v: number[] | undefined }
  | { id: number; t: 'list_string'; v: string[] | undefined }
  | { id: number; t: 'list_struct'; v: TField[][] | undefined };

/** Compact-protocol encoding on top of the growable ByteBuf. */
export class ThriftWriter extends ByteBuf {
  constructor(initial = 256) {
    super(initial);
  }

  varbig(n: bigint): void {
    this.ensure(10);
    while (n >= 0x80n) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  zigzag32(n: number): void {
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  zigzag64(n: number | bigint): void {
    if (typeof n === 'number' && Number.isSafeInteger(n)) {
      this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
    } else {
      const b = BigInt(n);
      this.varbig(b >= 0n ? b << 1n : (-b << 1n) - 1n);
    }
  }

  /** A length-prefixed byte string (Thrift `binary`). */
  binary(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }

  string(s: string): void {
    this.binary(Buffer.from(s, 'utf8'));
  }

  private fieldHeader(delta: number, type: number, id: number): void {
    if (delta > 0 && delta <= 15) this.u8((delta << 4) | type);
    else {
      this.u8(type);
      this.zigzag32(id);
    }
  }

  private listHeader(size: number, elemType: number): void {
    if (size < 15) this.u8((size << 4) | elemType);
    else {
      this.u8(0xf0 | elemType);
      this.varint(size);
    }
  }

  // One case per Thrift type: the cases repeat a shape on purpose (header, then the value).
  struct(fields: TField[]): void {
    let last = 0;
    for (const f of fields) {
      if (f.v === undefined) continue;
      const delta = f.id - last;
      last = f.id;
      switch (f.t) {
        case 'i32':
          this.fieldHeader(delta, TType.I32, f.id);
          this.zigzag32(f.v);
          break;
        case 'i64':
          this.fieldHeader(delta, TType.I64, f.id);
          this.zigzag64(f.v);
          break;
        case 'bool':
          this.fieldHeader(delta, f.v ? TType.BOOL_TRUE : TType.BOOL_FALSE, f.id);
          break;
        case 'string':
          this.fieldHeader(delta, TType.BINARY, f.id);
          this.string(f.v);
          break;
        case 'binary':
          this.fieldHeader(delta, TType.BINARY, f.id);
          this.binary(f.v);
          break;
        case 'struct':
          this.fieldHeader(delta, TType.STRUCT, f.id);
          this.struct(f.v);
          break;
        case 'list_i32':
          this.fieldHeader(delta, TType.LIST, f.id);
          this.listHeader(f.v.length, TType.I32);
          for (const x of f.v) this.zigzag32(x);
          break;
        case 'list_string':
          this.fieldHeader(delta, TType.LIST, f.id);
          this.listHeader(f.v.length, TType.BINARY);
          for (const x of f.v) this.string(x);
          break;
        case 'list_struct':
          this.fieldHeader(delta, TType.LIST, f.id);
          this.listHeader(f.v.length, TType.STRUCT);
          for (const x of f.v) this.struct(x);
          break;
      }
    }
    this.u8(0); // STOP
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.view());
  }
}

/** Serialize one top-level struct. */
export function encodeStruct(fields: TField[]): Buffer {
  const w = new ThriftWriter();
  w.struct(fields);
  return w.toBuffer();
}
