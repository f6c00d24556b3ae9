/**
 * Micro-benchmark: seal + open throughput of every cipher × MAC with 32 KiB packets (not a test; numbers are
 * machine- and load-dependent). Run: npx tsx impl/crypto/bench.ts [filter-regex] [--ms=N]
 */
import { makeOpener, makeSealer } from './protect.js';
import { cipherAlgorithms, macAlgorithms } from './registry.js';
import { buildPacket, seededRng } from './test-util.js';
import type { CipherAlgorithm, MacAlgorithm } from './types.js';

const PAYLOAD = 32 * 1024;
const args = process.argv.slice(2);
const msArg = args.find((a) => a.startsWith('--ms='));
const budgetMs = msArg ? Number(msArg.slice(5)) : 400;
const filter = new RegExp(args.find((a) => !a.startsWith('--')) ?? '.');
const includeLegacy = args.includes('--legacy');

function bench(c: CipherAlgorithm, m: MacAlgorithm | null): { seal: number; open: number; both: number } {
  const rng = seededRng('bench');
  const keys = { encKey: rng(c.keyLen), iv: rng(c.ivLen), macKey: rng(m?.keyLen ?? 0) };
  const s = makeSealer(c, m, keys);
  const o = makeOpener(c, m, keys);
  const template = buildPacket(rng(PAYLOAD), s.blockSize, s.lengthExcluded);
  // pre-seal a batch so that open can be timed alone, then time seal alone and seal+open together
  const warm = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => s.seal(i, template.slice()));
  let seq = 0;
  const sealed: Uint8Array[] = warm(64);
  seq = 64;
  const time = (fn: () => void): number => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < budgetMs) { fn(); n++; }
    return (n * PAYLOAD) / ((performance.now() - t0) / 1000) / 1e6;
  };
  // the opener must see packets in the order the sealer made them; a second sealer/opener pair keeps them in step
  const s2 = makeSealer(c, m, keys);
  const o2 = makeOpener(c, m, keys);
  let seq2 = 0;
  const both = time(() => {
    const wire = s2.seal(seq2, template.slice());
    o2.packetLength(seq2, wire.subarray(0, o2.headerLen));
    o2.open(seq2, wire);
    seq2++;
  });
  const seal = time(() => { sealed.push(s.seal(seq++, template.slice())); if (sealed.length > 4096) sealed.length = 4096; });
  let oseq = 0;
  const open = time(() => {
    const wire = sealed[oseq]!;
    if (wire === undefined) return;
    o.packetLength(oseq, wire.subarray(0, o.headerLen));
    o.open(oseq, wire);
    oseq++;
  });
  void open;
  return { seal, open: oseq < sealed.length ? open : NaN, both };
}

const rows: string[] = [];
for (const c of cipherAlgorithms.values()) {
  if (c.legacy && !includeLegacy) continue;
  const macs: (MacAlgorithm | null)[] = c.aead ? [null] : [...macAlgorithms.values()].filter((m) => includeLegacy || !m.legacy);
  for (const m of macs) {
    const label = m ? `${c.name} + ${m.name}` : c.name;
    if (!filter.test(label)) continue;
    const r = bench(c, m);
    rows.push(`${label.padEnd(52)} seal+open ${r.both.toFixed(0).padStart(6)} MB/s   (seal alone ${r.seal.toFixed(0).padStart(5)} MB/s)`);
    console.log(rows[rows.length - 1]);
  }
}
