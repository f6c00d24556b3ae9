/**
 * NH, UMAC's L1 inner hash (RFC 4418 §5.2.2), for all UHASH iterations at once: for each 1 KiB chunk and each
 * iteration s, the sum over 32-byte groups of (m_j + k_{4s+j})(m_{j+4} + k_{4s+j+4}), j = 0..3, words mod 2^32,
 * sum mod 2^64. The chunk's length term is added by the caller.
 *
 * Two interchangeable kernels with one memory layout:
 * - WebAssembly SIMD (the fast path): i32x4.add forms four (m + k) lanes, i64x2.extmul_{low,high}_i32x4_u makes the
 *   exact 64-bit products, i64x2.add accumulates — the shape of the SSE2 NH in the UMAC reference code. Iteration s
 *   reads the key 16 bytes further on, so each message vector is loaded once for all iterations.
 * - Plain JS (when WebAssembly SIMD is missing, and as a cross-check in tests): exact low words by Math.imul, the
 *   high word recovered from a float sum (error < 2^26 over 128 products, far below 2^31).
 *
 * Layout: [0, KEY_AT) results, two u32 (lo, hi) per (chunk, iteration), chunk-major; [KEY_AT, MSG_AT) L1 key words
 * (native u32 values of the big-endian key); [MSG_AT, ...) the message, zero-padded to a 32-byte multiple.
 */
import { endianness } from 'node:os';

const MAX_ITERS = 4;
const OUT_AT = 0;
/** Room for results of messages up to 256 KiB: 256 chunks × 4 iterations × 8 bytes. */
const OUT_BYTES = 256 * MAX_ITERS * 8;
const KEY_AT = OUT_BYTES;
const KEY_BYTES = 1024 + 16 * (MAX_ITERS - 1);
const MSG_AT = KEY_AT + 1088; // 64-byte aligned
const PAGE = 65536;
const TWO32 = 4294967296;
/** The longest segment one `run` takes (the result area holds 256 chunks); callers feed longer messages in segments. */
export const NH_MAX_MESSAGE = (OUT_BYTES / (MAX_ITERS * 8)) * 1024;

export interface NhKernel {
  readonly simd: boolean;
  /** Where the caller writes the next segment (≤ NH_MAX_MESSAGE bytes; only the last may end mid-chunk). */
  message(len: number): Uint8Array;
  /** Runs NH over the loaded segment of `len` bytes; results (lo, hi) at `results()[2 * (c * iters + s)]`. */
  run(len: number): void;
  results(): Uint32Array;
}

// ───────────────────────────── WebAssembly kernel ─────────────────────────────

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const str = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'latin1')];

// WebAssembly Core 2.0 §5.4 opcodes (SIMD ones are 0xFD-prefixed, LEB128 sub-opcodes)
const get = (l: number) => [0x20, ...uleb(l)];
const set = (l: number) => [0x21, ...uleb(l)];
const i32c = (v: number) => [0x41, ...uleb(v)]; // only small non-negative constants here (< 64)
const I32_ADD = [0x6a], I32_SUB = [0x6b], I32_LT_U = [0x49], I32_EQZ = [0x45], SELECT = [0x1b], I64_ADD = [0x7c];
const v128Load = (offset: number) => [0xfd, 0x00, 0x04, ...uleb(offset)];
const I32X4_ADD = [0xfd, ...uleb(174)];
const I64X2_ADD = [0xfd, ...uleb(206)];
const EXTMUL_LOW_U = [0xfd, ...uleb(222)];
const EXTMUL_HIGH_U = [0xfd, ...uleb(223)];
const extractLane = (l: number) => [0xfd, ...uleb(29), l];
const V128_ZERO = [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)];
const i64Store = (offset: number) => [0x37, 0x03, ...uleb(offset)];
const I32 = 0x7f, V128 = 0x7b;

/**
 * nh_k(msg, groups, key, out): k iterations. Outer loop per chunk of ≤ 32 groups; inner loop per group.
 * Locals: 0 msg, 1 groups, 2 key, 3 out, 4 n, 5 kp; v128: 6 m0, 7 m1, 8 a, 9 b, 10.. acc_s.
 */
function nhFunction(k: number): number[] {
  const [MSG, GROUPS, KEY, OUT, N, KP, M0, M1, A, B] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ACC = (s: number) => 10 + s;
  const inner: number[] = [
    ...get(MSG), ...v128Load(0), ...set(M0),
    ...get(MSG), ...v128Load(16), ...set(M1),
  ];
  for (let s = 0; s < k; s++) {
    inner.push(
      ...get(M0), ...get(KP), ...v128Load(16 * s), ...I32X4_ADD, ...set(A),
      ...get(M1), ...get(KP), ...v128Load(16 * s + 16), ...I32X4_ADD, ...set(B),
      ...get(ACC(s)), ...get(A), ...get(B), ...EXTMUL_LOW_U, ...I64X2_ADD,
      ...get(A), ...get(B), ...EXTMUL_HIGH_U, ...I64X2_ADD, ...set(ACC(s)),
    );
  }
  inner.push(
    ...get(MSG), ...i32c(32), ...I32_ADD, ...set(MSG),
    ...get(KP), ...i32c(32), ...I32_ADD, ...set(KP),
    ...get(N), ...i32c(1), ...I32_SUB, ...set(N),
  );
  const perChunk: number[] = [
    // n = min(groups, 32); groups -= n; kp = key; acc_s = 0
    ...get(GROUPS), ...i32c(32), ...get(GROUPS), ...i32c(32), ...I32_LT_U, ...SELECT, ...set(N),
    ...get(GROUPS), ...get(N), ...I32_SUB, ...set(GROUPS),
    ...get(KEY), ...set(KP),
  ];
  for (let s = 0; s < k; s++) perChunk.push(...V128_ZERO, ...set(ACC(s)));
  // block { loop { br_if 1 (n == 0); inner; br 0 } }
  perChunk.push(0x02, 0x40, 0x03, 0x40, ...get(N), ...I32_EQZ, 0x0d, 0x01, ...inner, 0x0c, 0x00, 0x0b, 0x0b);
  for (let s = 0; s < k; s++) {
    perChunk.push(...get(OUT), ...get(ACC(s)), ...extractLane(0), ...get(ACC(s)), ...extractLane(1), ...I64_ADD, ...i64Store(8 * s));
  }
  perChunk.push(...get(OUT), ...i32c(8 * k), ...I32_ADD, ...set(OUT));
  const body = [0x02, 0x40, 0x03, 0x40, ...get(GROUPS), ...I32_EQZ, 0x0d, 0x01, ...perChunk, 0x0c, 0x00, 0x0b, 0x0b];
  const locals = vec([[...uleb(2), I32], [...uleb(4 + k), V128]]);
  const code = [...locals, ...body, 0x0b];
  return [...uleb(code.length), ...code];
}

function nhModule(): Uint8Array {
  const ks = [1, 2, 3, 4];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...uleb(4), I32, I32, I32, I32, 0x00]])),
    ...section(3, vec(ks.map(() => [0x00]))),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...str('mem'), 0x02, 0x00], ...ks.map((k, i) => [...str(`nh${k}`), 0x00, ...uleb(i)])])),
    ...section(10, vec(ks.map(nhFunction))),
  ]);
}

/** The slice of the WebAssembly JS API used here (the project's `lib` has no DOM/WebAssembly typings). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
function simdModule(): object | null {
  if (compiled === undefined) {
    const bytes = nhModule();
    // WebAssembly memory is little-endian; the JS views below assume the host is too
    compiled = endianness() === 'LE' && WA !== undefined && WA.validate(bytes) ? new WA.Module(bytes) : null;
  }
  return compiled;
}

type NhFn = (msg: number, groups: number, key: number, out: number) => void;

function groupsOf(len: number): number {
  const chunks = Math.max(1, Math.ceil(len / 1024));
  const lastBytes = len - (chunks - 1) * 1024;
  // §5.2.1: the last chunk is zero-padded to a positive multiple of 32 bytes (the empty message hashes one group)
  return (chunks - 1) * 32 + Math.max(1, Math.ceil(lastBytes / 32));
}

class SimdKernel implements NhKernel {
  readonly simd = true;
  private readonly mem: WasmMemory;
  private readonly fn: NhFn;
  private bytes!: Uint8Array;
  private u32!: Uint32Array;

  constructor(mod: object, iters: number, keyWords: Uint32Array) {
    const inst = new WA!.Instance(mod, {});
    this.mem = inst.exports['mem'] as WasmMemory;
    this.fn = inst.exports[`nh${iters}`] as NhFn;
    this.refresh();
    this.u32.set(keyWords, KEY_AT / 4);
  }

  private refresh(): void {
    this.bytes = new Uint8Array(this.mem.buffer);
    this.u32 = new Uint32Array(this.mem.buffer);
  }

  message(len: number): Uint8Array {
    if (len > NH_MAX_MESSAGE) throw new RangeError(`NH segment of ${len} bytes exceeds ${NH_MAX_MESSAGE}`);
    const need = MSG_AT + groupsOf(len) * 32;
    if (need > this.mem.buffer.byteLength) {
      this.mem.grow(Math.ceil((need - this.mem.buffer.byteLength) / PAGE));
      this.refresh();
    }
    return this.bytes.subarray(MSG_AT, MSG_AT + len);
  }

  run(len: number): void {
    const groups = groupsOf(len);
    this.bytes.fill(0, MSG_AT + len, MSG_AT + groups * 32);
    this.fn(MSG_AT, groups, KEY_AT, OUT_AT);
  }

  results(): Uint32Array {
    return this.u32;
  }
}

/** The portable kernel: same layout in a plain ArrayBuffer. */
class JsKernel implements NhKernel {
  readonly simd = false;
  private buf = new ArrayBuffer(MSG_AT + 2048);
  private bytes = new Uint8Array(this.buf);
  private u32 = new Uint32Array(this.buf);
  private readonly key: Uint32Array;

  constructor(private readonly iters: number, keyWords: Uint32Array) {
    this.key = keyWords.slice();
  }

  message(len: number): Uint8Array {
    if (len > NH_MAX_MESSAGE) throw new RangeError(`NH segment of ${len} bytes exceeds ${NH_MAX_MESSAGE}`);
    const need = MSG_AT + groupsOf(len) * 32;
    if (need > this.buf.byteLength) {
      this.buf = new ArrayBuffer(Math.max(need, this.buf.byteLength * 2));
      this.bytes = new Uint8Array(this.buf);
      this.u32 = new Uint32Array(this.buf);
    }
    return this.bytes.subarray(MSG_AT, MSG_AT + len);
  }

  run(len: number): void {
    const groups = groupsOf(len);
    this.bytes.fill(0, MSG_AT + len, MSG_AT + groups * 32);
    // NH reads message words little-endian (§5.2.1 ENDIAN-SWAP); typed arrays use the host's order
    if (endianness() !== 'LE') Buffer.from(this.buf, MSG_AT, groups * 32).swap32();
    const w = this.u32, k = this.key, out = this.u32;
    let o = 0;
    for (let g0 = 0; g0 < groups; g0 += 32) {
      const start = MSG_AT / 4 + g0 * 8, end = start + Math.min(32, groups - g0) * 8;
      for (let s = 0; s < this.iters; s++) {
        let approx = 0, low = 0;
        for (let j = start, kj = 4 * s; j < end; j += 8, kj += 8) {
          const a0 = (w[j]! + k[kj]!) >>> 0, b0 = (w[j + 4]! + k[kj + 4]!) >>> 0;
          const a1 = (w[j + 1]! + k[kj + 1]!) >>> 0, b1 = (w[j + 5]! + k[kj + 5]!) >>> 0;
          const a2 = (w[j + 2]! + k[kj + 2]!) >>> 0, b2 = (w[j + 6]! + k[kj + 6]!) >>> 0;
          const a3 = (w[j + 3]! + k[kj + 3]!) >>> 0, b3 = (w[j + 7]! + k[kj + 7]!) >>> 0;
          approx += a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
          low = (low + Math.imul(a0, b0) + Math.imul(a1, b1) + Math.imul(a2, b2) + Math.imul(a3, b3)) | 0;
        }
        const lo = low >>> 0;
        out[o++] = lo;
        out[o++] = Math.round((approx - lo) / TWO32) % TWO32;
      }
    }
  }

  results(): Uint32Array {
    return this.u32;
  }
}


/**
 * A kernel for `iters` UHASH iterations (1..4) over the given L1 key words (1024 + 16·(iters-1) bytes, read
 * big-endian). `prefer: 'js'` forces the portable kernel (tests compare both).
 */
export function nhKernel(iters: number, keyWords: Uint32Array, prefer: 'simd' | 'js' = 'simd'): NhKernel {
  if (iters < 1 || iters > MAX_ITERS || keyWords.length * 4 !== KEY_BYTES - 16 * (MAX_ITERS - iters)) throw new RangeError('nhKernel: bad iteration count or key length');
  const mod = prefer === 'simd' ? simdModule() : null;
  return mod ? new SimdKernel(mod, iters, keyWords) : new JsKernel(iters, keyWords);
}
