import { DecodeError } from '../errors.js';
import { defaultWireLimits, type WireLimits } from './limits.js';

// ignoreBOM keeps a leading U+FEFF as data, so decode→encode is exact
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const latin1 = new TextDecoder('latin1');

/**
 * Bounds-checked reader for the RFC 4251 §5 data types. Every length is checked against the bytes
 * that remain and against `limits` before anything is allocated; failures are DecodeError{offset}.
 * Returned byte strings are views into the input (no copy).
 */
export class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array, private readonly limits: WireLimits = defaultWireLimits, private readonly base = 0) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number { return this.pos; }
  get remaining(): number { return this.buf.length - this.pos; }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) throw new DecodeError(`${what}: need ${n} bytes, ${this.buf.length - this.pos} left`, this.base + this.pos);
  }

  byte(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  /** RFC 4251 §5: any non-zero value is TRUE. */
  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8, 'uint64');
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** string (arbitrary bytes), RFC 4251 §5. */
  string(what = 'string', max = this.limits.maxString): Uint8Array {
    const at = this.pos;
    const len = this.uint32();
    if (len > max) throw new DecodeError(`${what}: length ${len} exceeds limit ${max}`, this.base + at);
    if (len > this.buf.length - this.pos) throw new DecodeError(`${what}: length ${len} exceeds the ${this.buf.length - this.pos} bytes left`, this.base + at);
    return this.bytes(len, what);
  }

  /** string holding ISO-10646 UTF-8 text (RFC 4251 §5); invalid UTF-8 is a DecodeError. */
  utf8(what = 'utf8 string'): string {
    const at = this.pos;
    const b = this.string(what);
    try {
      return utf8.decode(b);
    } catch {
      throw new DecodeError(`${what}: invalid UTF-8`, this.base + at);
    }
  }

  /** string holding US-ASCII (algorithm names, service names); bytes >0x7f are kept as latin1 so they can be reported. */
  ascii(what = 'ascii string'): string {
    return latin1.decode(this.string(what));
  }

  /** name-list, RFC 4251 §5: comma-separated, no empty names, no NUL. */
  nameList(what = 'name-list'): string[] {
    const at = this.pos;
    const s = this.ascii(what);
    if (s.length === 0) return [];
    const names = s.split(',');
    if (names.length > this.limits.maxNames) throw new DecodeError(`${what}: ${names.length} names exceed limit ${this.limits.maxNames}`, this.base + at);
    for (const n of names) {
      if (n.length === 0) throw new DecodeError(`${what}: empty name`, this.base + at);
      if (n.includes('\0')) throw new DecodeError(`${what}: NUL in a name`, this.base + at);
    }
    return names;
  }

  /**
   * mpint, RFC 4251 §5: two's complement, big-endian, minimal (no superfluous leading 0x00/0xff).
   * Non-minimal encodings are rejected: the RFC says they MUST NOT be included.
   */
  mpint(what = 'mpint'): bigint {
    const at = this.pos;
    const b = this.string(what);
    if (b.length === 0) return 0n;
    // zero is the empty string; a lone 0x00 is a superfluous byte too
    if (b.length === 1 && b[0] === 0) throw new DecodeError(`${what}: non-minimal encoding of zero`, this.base + at);
    if (b.length > 1 && ((b[0] === 0 && (b[1]! & 0x80) === 0) || (b[0] === 0xff && (b[1]! & 0x80) !== 0)))
      throw new DecodeError(`${what}: non-minimal encoding`, this.base + at);
    let v = BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
    if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8);
    return v;
  }

  /** Everything not yet read. */
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }

  /** Fails with TrailingData when bytes are left (rustls `expect_empty`). */
  end(what: string): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${what}: ${this.buf.length - this.pos} trailing bytes`, this.base + this.pos);
  }
}
