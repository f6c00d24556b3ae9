/**
 * Micro-benchmark (not a test): packet protection with 32 KiB payloads, native addon vs impl/crypto's
 * node:crypto path, in GB/s of payload. "seal+open" is one packet sealed and then opened (a symmetric pair at
 * X GB/s each shows X/2). Rounds alternate between the paths and each figure is the best round, so the ratios
 * compare like with like on a shared, noisy machine. "native in place" seals into the packet's own buffer and
 * opens into wire + 4 (what the addon can do when the caller leaves room for the tag: see the report).
 * Throughput is per CPU-second by default (bench-clock.ts; `--wall` for wall-clock).
 * Run: npx tsx impl/native/bench.ts [name-regex] [--rounds=N] [--ms=N] [--size=BYTES] [--wall]
 */
import { makeOpener, makeSealer } from '../crypto/protect.js';
import { cipherAlgorithms, macAlgorithms } from '../crypto/registry.js';
import { buildPacket, seededRng } from '../crypto/test-util.js';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, Opener, Sealer } from '../crypto/types.js';
import { clockName, rate } from './bench-clock.js';
import { nativeBinding, type NativeBinding } from './binding.js';
import { nativeOpener, nativeSealer, nativeStatus } from './index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const rounds = opt('rounds', 7);
const roundMs = opt('ms', 100);
const size = opt('size', 32 * 1024);
const filter = new RegExp(args.find((a) => !a.startsWith('--')) ?? '.');

const combos: [string, string | null][] = [
  ['aes128-gcm@openssh.com', null],
  ['aes256-gcm@openssh.com', null],
  ['chacha20-poly1305@openssh.com', null],
  ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
  ['aes128-ctr', 'hmac-sha2-256'],
  ['aes256-ctr', 'hmac-sha2-512-etm@openssh.com'],
];

const round = (fn: () => void): number => rate(fn, size, roundMs);

interface Pair { sealer: Sealer; opener: Opener }
type Path = 'pure' | 'native' | 'native in place';

function pure(c: CipherAlgorithm, m: MacAlgorithm | null, k: DirectionKeys): Pair {
  const before = process.env.SSH_HARNESS_NO_NATIVE;
  process.env.SSH_HARNESS_NO_NATIVE = '1'; // protect.ts may itself prefer the addon
  try { return { sealer: makeSealer(c, m, k), opener: makeOpener(c, m, k) }; } finally {
    if (before === undefined) delete process.env.SSH_HARNESS_NO_NATIVE; else process.env.SSH_HARNESS_NO_NATIVE = before;
  }
}

/** The binding's in-place calls, bypassing the wrappers' output allocation. */
function inPlace(b: NativeBinding, c: CipherAlgorithm, m: MacAlgorithm | null, k: DirectionKeys, macLen: number): { seal(seq: number, buf: Uint8Array, len: number): void; open(seq: number, wire: Uint8Array): void } {
  if (c.name.includes('gcm')) {
    const s = b.gcmNew(k.encKey, k.iv, true), o = b.gcmNew(k.encKey, k.iv, false);
    return { seal: (_q, buf, len) => b.gcmSeal(s, buf.subarray(0, len), buf), open: (_q, w) => b.gcmOpen(o, w, w.subarray(4, w.length - macLen)) };
  }
  if (c.name.startsWith('chacha')) {
    const s = b.chachaNew(k.encKey), o = b.chachaNew(k.encKey);
    return {
      seal: (q, buf, len) => b.chachaSeal(s, q, buf.subarray(0, len), buf),
      open: (q, w) => { b.chachaLength(o, q, w); b.chachaOpen(o, q, w, w.subarray(4, w.length - macLen)); },
    };
  }
  const digest = m!.name.includes('512') ? 'SHA512' : 'SHA256';
  const s = b.ctrHmacNew(k.encKey, k.iv, digest, k.macKey, macLen, m!.etm), o = b.ctrHmacNew(k.encKey, k.iv, digest, k.macKey, macLen, m!.etm);
  return {
    seal: (q, buf, len) => b.ctrHmacSeal(s, q, buf.subarray(0, len), buf),
    open: (q, w) => { b.ctrHmacLength(o, q, w.subarray(0, 16)); b.ctrHmacOpen(o, q, w, w.subarray(4, w.length - macLen)); },
  };
}

type Workload = { both: () => void; seal: () => void };

function bench(cName: string, mName: string | null, b: NativeBinding | null): Record<Path, { both: number; seal: number; open: number }> {
  const c = cipherAlgorithms.get(cName)!, m = mName ? macAlgorithms.get(mName)! : null;
  const rng = seededRng('bench');
  const k = { encKey: rng(c.keyLen), iv: rng(c.ivLen), macKey: rng(m?.keyLen ?? 0) };
  const template = buildPacket(rng(size), c.aead ? c.blockSize : 16, c.aead || (m?.etm ?? false));
  const macLen = m?.macLen ?? 16;
  // seal-alone uses its own sealer: GCM counters and CTR streams must stay in step with the seal+open pair
  const wrapped = (make: () => Pair): Workload => {
    const pair = make(), solo = make().sealer;
    let seq = 0, s2 = 0;
    return {
      both: () => { const w = pair.sealer.seal(seq, template.slice()); pair.opener.packetLength(seq, w.subarray(0, pair.opener.headerLen)); pair.opener.open(seq, w); seq = (seq + 1) >>> 0; },
      seal: () => { solo.seal(s2, template.slice()); s2 = (s2 + 1) >>> 0; },
    };
  };
  const paths: Partial<Record<Path, Workload>> = { pure: wrapped(() => pure(c, m, k)) };
  if (b) {
    paths.native = wrapped(() => ({ sealer: nativeSealer(c, m, k)!, opener: nativeOpener(c, m, k)! }));
    const ip = inPlace(b, c, m, k, macLen), solo = inPlace(b, c, m, k, macLen);
    const buf = new Uint8Array(template.length + macLen);
    let seq = 0, s2 = 0;
    paths['native in place'] = {
      // the copy stands in for the engine writing the payload into its packet buffer, which every path pays
      both: () => { buf.set(template); ip.seal(seq, buf, template.length); ip.open(seq, buf); seq = (seq + 1) >>> 0; },
      seal: () => { buf.set(template); solo.seal(s2, buf, template.length); s2 = (s2 + 1) >>> 0; },
    };
  }
  const best: Record<Path, { both: number; seal: number; open: number }> = {
    pure: { both: 0, seal: 0, open: 0 }, native: { both: 0, seal: 0, open: 0 }, 'native in place': { both: 0, seal: 0, open: 0 },
  };
  for (let r = 0; r < rounds; r++) {
    for (const [name, w] of Object.entries(paths) as [Path, Workload][]) {
      best[name].both = Math.max(best[name].both, round(w.both));
      best[name].seal = Math.max(best[name].seal, round(w.seal));
    }
  }
  // open alone = 1 / (1/both - 1/seal): the time of seal+open minus the time of seal
  for (const v of Object.values(best)) v.open = v.both && v.seal > v.both ? 1 / (1 / v.both - 1 / v.seal) : 0;
  return best;
}

const b = nativeBinding();
console.log(`${size}-byte payloads, ${clockName}, best of ${rounds} × ${roundMs} ms per path (rounds interleaved); node ${process.version}, OpenSSL ${process.versions.openssl}`);
console.log(`native: ${nativeStatus().detail}`);
const f = (x: number): string => x.toFixed(2).padStart(5);
console.log(`${'algorithm'.padEnd(46)} ${'path'.padEnd(16)} seal+open   seal  open*  (GB/s)  ×pure`);
for (const [c, m] of combos) {
  const label = m ? `${c} + ${m}` : c;
  if (!filter.test(label)) continue;
  const r = bench(c, m, b);
  for (const path of ['pure', 'native', 'native in place'] as const) {
    if (r[path].both === 0) continue;
    const ratio = path === 'pure' ? '' : `  ${(r[path].both / r.pure.both).toFixed(2)}×`;
    console.log(`${(path === 'pure' ? label : '').padEnd(46)} ${path.padEnd(16)} ${f(r[path].both)}     ${f(r[path].seal)}  ${f(r[path].open)}${ratio}`);
  }
}
console.log('* open alone derived from the seal+open and seal-alone rates');
