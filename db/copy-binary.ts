// Rows in PostgreSQL's binary COPY format ("Binary Format" of the COPY reference), written into one
// growing buffer: a header, then per row a 16-bit field count and per field a 32-bit byte length
// (-1 for NULL) and the value in the type's binary wire form, then a trailer. Written through a
// DataView and typed-array copies: Buffer's write methods cost twice as much per reading here.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_US = 946_684_800_000_000;
const TWO_32 = 4_294_967_296;

/** Encoded text fields (length prefix included) of the short strings that repeat: OCPP vocabulary. */
const encodedText = new Map<string, Uint8Array>();
const ENCODED_TEXT_MAX = 1024;
const utf8Encoder = new TextEncoder();
const NO_PREFIX = new Uint8Array(0);
/** jsonb's binary form starts with its format version. */
const JSONB_VERSION = Uint8Array.of(1);

export class CopyBinaryWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private pos = 0;

  /** `sizeHint`: the expected bytes, so that large outputs are not copied while they grow. */
  constructor(sizeHint = 65_536) {
    this.bytes = new Uint8Array(Math.max(64, sizeHint));
    this.view = new DataView(this.bytes.buffer);
    this.bytes.set(SIGNATURE, 0);
    this.view.setInt32(11, 0); // flags: no OIDs
    this.view.setInt32(15, 0); // header extension length
    this.pos = 19;
  }

  row(fieldCount: number): this {
    this.room(2);
    this.view.setInt16(this.pos, fieldCount);
    this.pos += 2;
    return this;
  }

  null(): this {
    this.room(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
    return this;
  }

  /** Bytes already in wire form (see `uuidField`), copied as they are. */
  raw(field: Uint8Array): this {
    this.room(field.length);
    this.bytes.set(field, this.pos);
    this.pos += field.length;
    return this;
  }

  int2(v: number): this {
    const at = this.field(2);
    this.view.setInt16(at, v);
    return this;
  }

  int4(v: number): this {
    const at = this.field(4);
    this.view.setInt32(at, v);
    return this;
  }

  float8(v: number): this {
    const at = this.field(8);
    this.view.setFloat64(at, v);
    return this;
  }

  bool(v: boolean): this {
    const at = this.field(1);
    this.bytes[at] = v ? 1 : 0;
    return this;
  }

  /** timestamptz from microseconds since the Unix epoch (a safe integer). */
  timestamptz(unixMicros: number): this {
    const v = unixMicros - PG_EPOCH_US;
    const hi = Math.floor(v / TWO_32);
    const at = this.field(8);
    this.view.setInt32(at, hi);
    this.view.setUint32(at + 4, v - hi * TWO_32);
    return this;
  }

  /** text/varchar as UTF-8; null or undefined → NULL. */
  text(s: string | null | undefined): this {
    if (s == null) return this.null();
    let field = encodedText.get(s);
    if (field === undefined) {
      const utf8 = Buffer.from(s);
      field = new Uint8Array(4 + utf8.length);
      new DataView(field.buffer).setInt32(0, utf8.length);
      field.set(utf8, 4);
      if (s.length <= 64 && encodedText.size < ENCODED_TEXT_MAX) encodedText.set(s, field);
    }
    return this.raw(field);
  }

  /**
   * text/varchar that does not repeat (ids, names): encoded in place, not cached, so that it cannot
   * crowd the vocabulary out of the cache `text` keeps. null or undefined → NULL.
   */
  uniqueText(s: string | null | undefined): this {
    return s == null ? this.null() : this.encoded(NO_PREFIX, s);
  }

  /** text from bytes that are already valid UTF-8 (the caller checks: PostgreSQL refuses the COPY otherwise). */
  utf8(bytes: Uint8Array): this {
    this.room(4 + bytes.length);
    this.view.setInt32(this.pos, bytes.length);
    this.bytes.set(bytes, this.pos + 4);
    this.pos += 4 + bytes.length;
    return this;
  }

  /** jsonb from JSON text (after the version byte). null or undefined → NULL. */
  jsonb(json: string | null | undefined): this {
    return json == null ? this.null() : this.encoded(JSONB_VERSION, json);
  }

  /** The whole COPY data, trailer included; the writer is done. */
  finish(): Buffer {
    this.room(2);
    this.view.setInt16(this.pos, -1);
    this.pos += 2;
    return Buffer.from(this.bytes.buffer, 0, this.pos);
  }

  /**
   * Writes a fixed-size field's length and returns where its value goes. It may grow the buffer
   * and replace `view`, so callers take the offset before they touch `view`.
   */
  private field(size: number): number {
    this.room(4 + size);
    this.view.setInt32(this.pos, size);
    const at = this.pos + 4;
    this.pos = at + size;
    return at;
  }

  /** A variable-length field: `prefix` and then `s` as UTF-8, encoded in place (no intermediate buffer). */
  private encoded(prefix: Uint8Array, s: string): this {
    const head = 4 + prefix.length;
    this.room(head + s.length * 3);
    this.bytes.set(prefix, this.pos + 4);
    const { written } = utf8Encoder.encodeInto(s, this.bytes.subarray(this.pos + head));
    this.view.setInt32(this.pos, prefix.length + written);
    this.pos += head + written;
    return this;
  }

  private room(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid field in wire form: length 16 and the uuid's bytes, for `CopyBinaryWriter.raw`. */
export function uuidField(uuid: string): Uint8Array {
  if (!UUID_RE.test(uuid)) throw new Error(`not a uuid: ${uuid}`);
  const field = new Uint8Array(20);
  new DataView(field.buffer).setInt32(0, 16);
  field.set(Buffer.from(uuid.replace(/-/g, ''), 'hex'), 4);
  return field;
}
