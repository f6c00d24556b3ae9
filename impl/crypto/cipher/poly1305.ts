/**
 * Poly1305 (RFC 8439 §2.5) as a small WebAssembly kernel: node:crypto has no standalone Poly1305, and a JS
 * one (@noble) runs ~0.47 GB/s, which would cap chacha20-poly1305@openssh.com. The kernel is the classic
 * 26-bit-limb ("donna-32") schedule: five limbs, 25 64-bit multiplies per 16-byte block, all in i64 locals.
 *
 * Memory layout: [0,32) key r||s, [32,48) tag out, [48,64) scratch for the final partial block, [64,...) message.
 */
import { I32, I64, get, i32, i32c, i64, i64c, ifThen, load32u, load8u, set, store32of64, store64, store8, wasmModule, whileNot, type Code } from './wasm-emit.js';

const KEY = 0;
const TAG = 32;
const SCRATCH = 48;
const MSG = 64;
const M26 = 0x3ffffff;

// locals: params key, msg, len, out (i32); then i64 r0..4 s1..4 h0..4 d0..4 c g0..4 mask; i32 end, i, rem
const P = { key: 0, msg: 1, len: 2, out: 3 };
let next = 4;
const seq = (n: number): number[] => Array.from({ length: n }, () => next++);
const r = seq(5), s = [-1, ...seq(4)], h = seq(5), d = seq(5), [c] = seq(1) as [number], g = seq(5), [mask] = seq(1) as [number];
const i64Count = next - 4;
const [end, idx, rem] = [next++, next++, next++] as [number, number, number];

const L = get;
const and = i64.and, add = i64.add, mul = i64.mul, shr = i64.shrU, shl = i64.shl, or = i64.or;

/** h += m (one 16-byte block at `ptr`, with 2^128 added when `hibit`); h *= r mod 2^130 - 5 (partially reduced). */
function block(ptr: Code, hibit: boolean): Code {
  const limb = (off: number, sh: number): Code => and(shr(load32u(ptr, off), i64c(sh)), i64c(M26));
  const code: Code[] = [
    set(h[0]!, add(L(h[0]!), and(load32u(ptr, 0), i64c(M26)))),
    set(h[1]!, add(L(h[1]!), limb(3, 2))),
    set(h[2]!, add(L(h[2]!), limb(6, 4))),
    set(h[3]!, add(L(h[3]!), limb(9, 6))),
    set(h[4]!, add(L(h[4]!), hibit ? or(shr(load32u(ptr, 12), i64c(8)), i64c(1 << 24)) : shr(load32u(ptr, 12), i64c(8)))),
  ];
  // d_k = sum_j h_j * (j <= k ? r_{k-j} : 5 * r_{k-j+5})
  for (let k = 0; k < 5; k++) {
    let sum: Code | null = null;
    for (let j = 0; j < 5; j++) {
      const factor = j <= k ? L(r[k - j]!) : L(s[k - j + 5]!);
      const p = mul(L(h[j]!), factor);
      sum = sum === null ? p : add(sum, p);
    }
    code.push(set(d[k]!, sum!));
  }
  code.push(set(c, shr(L(d[0]!), i64c(26))), set(h[0]!, and(L(d[0]!), i64c(M26))));
  for (let k = 1; k < 5; k++) {
    code.push(set(d[k]!, add(L(d[k]!), L(c))), set(c, shr(L(d[k]!), i64c(26))), set(h[k]!, and(L(d[k]!), i64c(M26))));
  }
  code.push(
    set(h[0]!, add(L(h[0]!), mul(L(c), i64c(5)))),
    set(c, shr(L(h[0]!), i64c(26))),
    set(h[0]!, and(L(h[0]!), i64c(M26))),
    set(h[1]!, add(L(h[1]!), L(c))),
  );
  return code.flat();
}

function body(): Code {
  const code: Code[] = [];
  // clamp r (RFC 8439 §2.5.1) while splitting it into 26-bit limbs
  const keyLimb = (off: number, sh: number, m: number): Code => and(shr(load32u(L(P.key), off), i64c(sh)), i64c(m));
  code.push(
    set(r[0]!, keyLimb(0, 0, 0x3ffffff)), set(r[1]!, keyLimb(3, 2, 0x3ffff03)), set(r[2]!, keyLimb(6, 4, 0x3ffc0ff)),
    set(r[3]!, keyLimb(9, 6, 0x3f03fff)), set(r[4]!, keyLimb(12, 8, 0x00fffff)),
  );
  for (let k = 1; k < 5; k++) code.push(set(s[k]!, mul(L(r[k]!), i64c(5))));
  for (let k = 0; k < 5; k++) code.push(set(h[k]!, i64c(0)));
  // full blocks
  code.push([...i32.add(L(P.msg), i32.and(L(P.len), i32c(-16))), 0x21, end]);
  code.push(whileNot(i32.geU(L(P.msg), L(end)), [...block(L(P.msg), true), ...i32.add(L(P.msg), i32c(16)), 0x21, P.msg]));
  // RFC 8439 §2.5.1: a final partial block gets a 0x01 byte after it and zeros up to 16 bytes, without 2^128
  code.push([...i32.and(L(P.len), i32c(15)), 0x21, rem]);
  code.push(ifThen(i32.ne(L(rem), i32c(0)), [
    ...store64(i32c(SCRATCH), i64c(0)), ...store64(i32c(SCRATCH), i64c(0), 8),
    ...i32c(0), 0x21, idx,
    ...whileNot(i32.geU(L(idx), L(rem)), [
      ...store8(i32.add(i32c(SCRATCH), L(idx)), load8u(i32.add(L(P.msg), L(idx)))),
      ...i32.add(L(idx), i32c(1)), 0x21, idx,
    ]),
    ...store8(i32.add(i32c(SCRATCH), L(rem)), i32c(1)),
    ...block(i32c(SCRATCH), false),
  ]));
  // fully carry h
  code.push(set(c, shr(L(h[1]!), i64c(26))), set(h[1]!, and(L(h[1]!), i64c(M26))));
  for (let k = 2; k < 5; k++) code.push(set(h[k]!, add(L(h[k]!), L(c))), set(c, shr(L(h[k]!), i64c(26))), set(h[k]!, and(L(h[k]!), i64c(M26))));
  code.push(
    set(h[0]!, add(L(h[0]!), mul(L(c), i64c(5)))), set(c, shr(L(h[0]!), i64c(26))), set(h[0]!, and(L(h[0]!), i64c(M26))),
    set(h[1]!, add(L(h[1]!), L(c))),
  );
  // g = h + 5 - 2^130; take g when it did not go negative (h >= p), in constant time
  code.push(set(g[0]!, add(L(h[0]!), i64c(5))), set(c, shr(L(g[0]!), i64c(26))), set(g[0]!, and(L(g[0]!), i64c(M26))));
  for (let k = 1; k < 4; k++) code.push(set(g[k]!, add(L(h[k]!), L(c))), set(c, shr(L(g[k]!), i64c(26))), set(g[k]!, and(L(g[k]!), i64c(M26))));
  code.push(set(g[4]!, i64.sub(add(L(h[4]!), L(c)), i64c(1 << 26))));
  code.push(set(mask, i64.sub(shr(L(g[4]!), i64c(63)), i64c(1))));
  for (let k = 0; k < 5; k++) code.push(set(h[k]!, or(and(L(h[k]!), i64.xor(L(mask), i64c(-1))), and(L(g[k]!), L(mask)))));
  // h mod 2^128 as four 32-bit words, plus s (RFC 8439 §2.5.1), carried word to word
  const words: Code[] = [
    or(L(h[0]!), shl(L(h[1]!), i64c(26))),
    or(shr(L(h[1]!), i64c(6)), shl(L(h[2]!), i64c(20))),
    or(shr(L(h[2]!), i64c(12)), shl(L(h[3]!), i64c(14))),
    or(shr(L(h[3]!), i64c(18)), shl(L(h[4]!), i64c(8))),
  ];
  const W = 0xffffffffn;
  for (let k = 0; k < 4; k++) {
    const sum = add(and(words[k]!, i64c(W)), load32u(L(P.key), 16 + 4 * k));
    code.push(set(c, k === 0 ? sum : add(sum, shr(L(c), i64c(32)))));
    code.push(store32of64(L(P.out), L(c), 4 * k));
  }
  return code.flat();
}

const INITIAL_PAGES = 5; // 320 KiB: room for the largest packets OpenSSH sends (256 KiB)
let wasmBytes: Uint8Array | null = null;
/** Emitted on first use, not at import: emitting costs ~10 ms of a cold process that may never use chacha20. */
function moduleBytes(): Uint8Array {
  wasmBytes ??= wasmModule([{ name: 'poly1305', params: [I32, I32, I32, I32], locals: [...Array(i64Count).fill(I64), I32, I32, I32], body: body() }], INITIAL_PAGES);
  return wasmBytes;
}

/** The slice of the WebAssembly JS API used here (the project's `lib` has no DOM/WebAssembly typings). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernel {
  readonly memory: WasmMemory;
  readonly poly1305: (key: number, msg: number, len: number, out: number) => void;
}

let kernel: Kernel | null = null;
let heap = new Uint8Array(0);

function instance(): Kernel {
  if (kernel === null) {
    const inst = new WA.Instance(new WA.Module(moduleBytes()), {});
    kernel = inst.exports as unknown as Kernel;
    heap = new Uint8Array(kernel.memory.buffer);
  }
  return kernel;
}

/** Makes room for `n` message bytes; growing detaches the old ArrayBuffer, so the view is refreshed. */
function reserve(k: Kernel, n: number): Uint8Array {
  const need = MSG + n;
  if (heap.byteLength < need) {
    k.memory.grow(Math.ceil((need - heap.byteLength) / 65536));
    heap = new Uint8Array(k.memory.buffer);
  }
  return heap;
}

/**
 * Poly1305 tag (16 bytes) of the concatenation of `parts` under the one-time `key` (32 bytes, r || s).
 * The result is a view into the kernel's memory, valid until the next call.
 */
export function poly1305(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const k = instance();
  let n = 0;
  for (const p of parts) n += p.length;
  const mem = reserve(k, n);
  mem.set(key.subarray(0, 32), KEY);
  let at = MSG;
  for (const p of parts) { mem.set(p, at); at += p.length; }
  k.poly1305(KEY, MSG, n, TAG);
  return mem.subarray(TAG, TAG + 16);
}

/** The raw module, for tests and the benchmark. */
export function poly1305WasmBytes(): Uint8Array {
  return moduleBytes();
}
