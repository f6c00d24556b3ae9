/**
 * Micro-benchmark (not a test): seal + open throughput of every cipher × MAC with 32 KiB packets, in MB/s of
 * payload for one packet sealed and then opened (so a symmetric pair at X MB/s each shows X/2). Each figure
 * is the best of several rounds, because the machine is shared and noisy.
 * Run: npx tsx impl/crypto/bench.ts [name-regex] [--legacy] [--rounds=N] [--ms=N]
 */
import { poly1305 } from './cipher/poly1305.js';
import { makeOpener, makeSealer } from './protect.js';
import { cipherAlgorithms, macAlgorithms } from './registry.js';
import { buildPacket, seededRng } from './test-util.js';
import type { CipherAlgorithm, MacAlgorithm } from './types.js';

const PAYLOAD = 32 * 1024;
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const rounds = opt('rounds', 5);
const roundMs = opt('ms', 120);
const filter = new RegExp(args.find((a) => !a.startsWith('--')) ?? '.');
const includeLegacy = args.includes('--legacy');

/** Best-of-rounds MB/s of `fn`, which processes `bytesPerCall` payload bytes per call. */
function best(fn: () => void, bytesPerCall: number): number {
  let top = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < roundMs) { fn(); n++; t = performance.now(); }
    top = Math.max(top, (n * bytesPerCall) / ((t - t0) / 1000) / 1e6);
  }
  return top;
}

function combo(c: CipherAlgorithm, m: MacAlgorithm | null): { both: number; seal: number } {
  const rng = seededRng('bench');
  const keys = { encKey: rng(c.keyLen), iv: rng(c.ivLen), macKey: rng(m?.keyLen ?? 0) };
  const sealer = makeSealer(c, m, keys);
  const opener = makeOpener(c, m, keys);
  const template = buildPacket(rng(PAYLOAD), sealer.blockSize, sealer.lengthExcluded);
  let seq = 0;
  const both = best(() => {
    const wire = sealer.seal(seq, template.slice());
    opener.packetLength(seq, wire.subarray(0, opener.headerLen));
    opener.open(seq, wire);
    seq = (seq + 1) >>> 0;
  }, PAYLOAD);
  const sealOnly = makeSealer(c, m, keys);
  let s2 = 0;
  const seal = best(() => { sealOnly.seal(s2++, template.slice()); }, PAYLOAD);
  return { both, seal };
}

console.log(`32 KiB packets, best of ${rounds} × ${roundMs} ms; node ${process.version}, OpenSSL ${process.versions.openssl}`);
const key = seededRng('poly')(32);
const msg = seededRng('poly-msg')(PAYLOAD + 4);
console.log(`${'poly1305 (WebAssembly kernel) alone'.padEnd(52)} ${best(() => { poly1305(key, msg); }, PAYLOAD).toFixed(0).padStart(6)} MB/s`);
for (const c of cipherAlgorithms.values()) {
  if (c.legacy && !includeLegacy) continue;
  const macs: (MacAlgorithm | null)[] = c.aead ? [null] : [...macAlgorithms.values()].filter((m) => includeLegacy || !m.legacy);
  for (const m of macs) {
    const label = m ? `${c.name} + ${m.name}` : c.name;
    if (!filter.test(label)) continue;
    const r = combo(c, m);
    console.log(`${label.padEnd(52)} ${r.both.toFixed(0).padStart(6)} MB/s seal+open   (seal alone ${r.seal.toFixed(0).padStart(5)} MB/s)`);
  }
}
