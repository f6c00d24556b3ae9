/**
 * A minimal WebAssembly binary emitter (WebAssembly Core Specification 2.0, §5 "Binary Format"): just the
 * opcodes our kernels use, so a hand-written kernel ships as TypeScript with no assembler dependency and no
 * build step. Expressions are byte arrays in stack order; `fn` wraps them into a module.
 */

export type Code = readonly number[];

export function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const I32 = 0x7f;
export const I64 = 0x7e;

// §5.4 instructions (numeric, variable, memory, control)
export const get = (l: number): Code => [0x20, ...uleb(l)];
export const set = (l: number, e: Code): Code => [...e, 0x21, ...uleb(l)];
export const i32c = (v: number): Code => [0x41, ...sleb(BigInt(v))];
export const i64c = (v: number | bigint): Code => [0x42, ...sleb(BigInt(v))];
const bin = (op: number) => (a: Code, b: Code): Code => [...a, ...b, op];
export const i32 = { add: bin(0x6a), sub: bin(0x6b), and: bin(0x71), geU: bin(0x4f), ltU: bin(0x49), ne: bin(0x47) };
export const i64 = {
  add: bin(0x7c), sub: bin(0x7d), mul: bin(0x7e), and: bin(0x83), or: bin(0x84), xor: bin(0x85),
  shl: bin(0x86), shrU: bin(0x88),
};
/** i64.extend_i32_u(i32.load offset=off (ptr)): a little-endian 32-bit word, any alignment. */
export const load32u = (ptr: Code, off: number): Code => [...ptr, 0x28, 0x00, ...uleb(off), 0xad];
export const load8u = (ptr: Code): Code => [...ptr, 0x2d, 0x00, 0x00];
export const store8 = (ptr: Code, v: Code): Code => [...ptr, ...v, 0x3a, 0x00, 0x00];
export const store64 = (ptr: Code, v: Code, off = 0): Code => [...ptr, ...v, 0x37, 0x00, ...uleb(off)];
/** i64.store32: the low 32 bits of an i64, little-endian. */
export const store32of64 = (ptr: Code, v: Code, off = 0): Code => [...ptr, ...v, 0x3e, 0x00, ...uleb(off)];
/** A loop that runs `body` while `exitWhen` is false (block { loop { br_if 1 exitWhen; body; br 0 } }). */
export const whileNot = (exitWhen: Code, body: Code): Code => [0x02, 0x40, 0x03, 0x40, ...exitWhen, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
export const ifThen = (cond: Code, body: Code): Code => [...cond, 0x04, 0x40, ...body, 0x0b];

export interface FnDef {
  readonly name: string;
  readonly params: readonly number[];
  readonly locals: readonly number[];
  readonly body: Code;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (s: string): number[] => { const b = [...new TextEncoder().encode(s)]; return [...uleb(b.length), ...b]; };

/** A module exporting `memory` (min `pages` of 64 KiB, growable) and one function per FnDef, all returning nothing. */
export function wasmModule(fns: readonly FnDef[], pages: number): Uint8Array {
  const types = fns.map((f) => [0x60, ...uleb(f.params.length), ...f.params, 0]);
  const codes = fns.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], ...fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(codes)),
  ]);
}
