/**
 * Growable writer for RFC 4251 §5 types. One allocation in the common case: callers pass a size hint.
 */
const enc = new TextEncoder();

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(sizeHint = 256) {
    this.buf = new Uint8Array(sizeHint);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number { return this.pos; }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** string: uint32 length then bytes; JS strings are written as UTF-8. */
  string(v: Uint8Array | string): this {
    const b = typeof v === 'string' ? enc.encode(v) : v;
    this.uint32(b.length);
    return this.raw(b);
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /** mpint, minimal two's complement (RFC 4251 §5). */
  mpint(v: bigint): this {
    return this.string(mpintBytes(v));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** The body of an mpint (without its length prefix), RFC 4251 §5. */
export function mpintBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  if (v > 0n) {
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  // negative: smallest byte count whose two's complement holds v
  let n = 1;
  while (-(1n << BigInt(n * 8 - 1)) > v) n++;
  let hex = BigInt.asUintN(n * 8, v).toString(16).padStart(n * 2, '0');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Unsigned big-endian bytes → mpint body (adds the 0x00 sign byte when needed). */
export function mpintFromUnsigned(be: Uint8Array): Uint8Array {
  let i = 0;
  while (i < be.length && be[i] === 0) i++;
  const body = be.subarray(i);
  if (body.length > 0 && body[0]! & 0x80) {
    const out = new Uint8Array(body.length + 1);
    out.set(body, 1);
    return out;
  }
  return body.slice();
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
