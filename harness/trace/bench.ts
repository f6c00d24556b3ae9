/**
 * Trace benchmark (a script, not a test): `node --import tsx harness/trace/bench.ts [MiB] [--keep]`.
 *
 * 1. Recording: PcapWriter throughput in MB/s of SSH bytes tapped (32 KiB chunks, as a bulk transfer writes them),
 *    to a file and in memory, with the default MSS and with a 1460-byte MSS.
 * 2. Import: a generated capture of about MiB (default 256) — several connections, each with version strings,
 *    KEXINITs, NEWKEYS, then bulk "encrypted" data one way and small replies the other — imported with
 *    `importPcap` (pcap-parser), in MB/s of pcap; plus pcap-parser alone as the floor. Target ≥ 100 MB/s (issue 9).
 *
 * Numbers are printed, never asserted (tests do not time things).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bannerBytes, framePacket, kexInitPayload } from './fixtures.js';
import { importPcap } from './import.js';
import { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';

const args = process.argv.slice(2);
const targetMiB = Number(args.find((a) => /^\d+$/.test(a)) ?? 256);
const keep = args.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'trace-bench-'));

const CHUNK = 32 * 1024;
const bulk = new Uint8Array(CHUNK);
for (let i = 0; i < bulk.length; i++) bulk[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
const reply = bulk.subarray(0, 52); // an encrypted window-adjust-sized packet

function mbps(bytes: number, ns: bigint): string {
  return (bytes / 1e6 / (Number(ns) / 1e9)).toFixed(0).padStart(6);
}

/** Writes `totalBytes` of SSH stream over `conns` connections; returns the SSH bytes recorded. */
function record(w: PcapWriter, totalBytes: number, conns: number): number {
  let t = 1_700_000_000_000;
  let recorded = 0;
  const perConn = Math.ceil(totalBytes / conns);
  for (let i = 0; i < conns; i++) {
    const c = w.connection();
    c.open(t);
    const hello = [bannerBytes('SSH-2.0-bench_client'), framePacket(kexInitPayload(new Uint8Array(16).fill(i))), framePacket(Uint8Array.of(21))];
    const helloS = [bannerBytes('SSH-2.0-bench_server'), framePacket(kexInitPayload(new Uint8Array(16).fill(~i))), framePacket(Uint8Array.of(21))];
    for (const b of hello) { c.chunk('c2s', b, (t += 0.01)); recorded += b.length; }
    for (const b of helloS) { c.chunk('s2c', b, (t += 0.01)); recorded += b.length; }
    for (let sent = 0, n = 0; sent < perConn; sent += CHUNK, n++) {
      c.chunk('c2s', bulk, (t += 0.02));
      recorded += CHUNK;
      if (n % 16 === 15) { c.chunk('s2c', reply, (t += 0.001)); recorded += reply.length; }
    }
    c.close((t += 1));
  }
  w.close();
  return recorded;
}

function benchWriter(label: string, options: PcapWriterOptions, toFile: boolean, bytes: number): void {
  const file = join(dir, 'w.pcap');
  const w = toFile ? PcapWriter.toFile(file, options) : PcapWriter.inMemory(options);
  const t0 = process.hrtime.bigint();
  const recorded = record(w, bytes, 4);
  const ns = process.hrtime.bigint() - t0;
  console.log(`record  ${label.padEnd(34)} ${mbps(recorded, ns)} MB/s of SSH bytes  (${w.frames} frames)`);
}

async function benchImport(label: string, options: PcapWriterOptions): Promise<void> {
  const file = join(dir, `import-${options.mss ?? 'default'}.pcap`);
  record(PcapWriter.toFile(file, options), targetMiB * 1024 * 1024, 8);
  const size = statSync(file).size;
  // pcap-parser alone: the floor any importer built on it has
  const pp = createRequire(import.meta.url)('pcap-parser') as { parse(s: string): NodeJS.EventEmitter };
  const { createReadStream } = await import('node:fs');
  let t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const p = pp.parse(createReadStream(file, { highWaterMark: 1 << 20 }) as unknown as string);
    p.on('packet', () => {});
    p.on('end', resolve);
    p.on('error', reject);
  });
  const parserNs = process.hrtime.bigint() - t0;
  t0 = process.hrtime.bigint();
  const r = await importPcap(file);
  const ns = process.hrtime.bigint() - t0;
  const c = r.corpus;
  const ok = !c.partial && c.connections.length === 8 && c.connections.every((x) => x.messages.length === 4);
  console.log(`import  ${label.padEnd(34)} ${mbps(size, ns)} MB/s of pcap  (${(size / 1048576).toFixed(0)} MiB, ${r.stats.records} records; ` +
    `pcap-parser alone ${mbps(size, parserNs).trim()} MB/s)${ok ? '' : '  RESULT WRONG'}`);
}

try {
  console.log(`trace bench (node ${process.version}); pcap files in ${dir}`);
  const recBytes = Math.min(targetMiB, 256) * 1024 * 1024;
  benchWriter('file, MSS 65495 (default)', {}, true, recBytes);
  benchWriter('memory, MSS 65495', {}, false, recBytes / 4);
  benchWriter('file, MSS 1460', { mss: 1460 }, true, recBytes / 2);
  await benchImport('MSS 65495 (our writer default)', {});
  await benchImport('MSS 1460 (Ethernet-sized frames)', { mss: 1460 });
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
