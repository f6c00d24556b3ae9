/**
 * `ssh-harness trace import FILE.pcap [--keylog FILE] --out DIR`: a capture → decoded JSONL and a
 * replayable corpus entry (format: harness/trace/README.md).
 *
 * Exit codes: 0 = imported completely; 1 = imported, but the result is partial (truncated file,
 * gaps, snaplen cuts, unparsable streams) — the files are written and flagged; 2 = usage error or not a pcap.
 */
import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { FileSink } from '../trace/byte-sink.js';
import { keylogDecryptor } from '../trace/decrypt.js';
import { importPcap, type DecryptorFactory, type ImportResult } from '../trace/import.js';
import { parseKeylog } from '../trace/keylog.js';
import { PcapFormatError } from '../trace/pcap-reader.js';

interface ImportCliOptions {
  readonly out: string;
  readonly keylog?: string;
  readonly serverPort?: string[];
  readonly unsafeLogSecrets?: boolean;
  readonly rawHex?: boolean;
  readonly strict?: boolean;
  readonly json?: boolean;
}

export function register(program: Command): void {
  const trace = program.command('trace').description('packet traces: import captured SSH traffic');
  trace
    .command('import')
    .description('import a classic pcap (pcap-parser) into decoded JSONL and a replayable corpus entry')
    .argument('<file>', 'capture in classic pcap format (pcapng: convert with `editcap -F pcap IN OUT`)')
    .requiredOption('--out <dir>', 'directory for <name>.jsonl and <name>.corpus.json')
    .option('--keylog <file>', 'SSH keylog (Wireshark format: cookie + private key, or SHARED_SECRET lines) to decrypt with')
    .option('--server-port <port...>', 'server ports, for connections whose handshake was not captured (22 is always one)')
    .option('--unsafe-log-secrets', 'write passwords and keyboard-interactive responses instead of [redacted]')
    .option('--raw-hex', 'add each payload as hex to the JSONL lines')
    .option('--strict', 'reject a truncated file instead of importing the records before the cut')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: ImportCliOptions, cmd: Command) => {
      const out = cmd.configureOutput();
      const say = (s: string): void => (out.writeOut ?? ((x: string) => process.stdout.write(x)))(s);
      const warn = (s: string): void => (out.writeErr ?? ((x: string) => process.stderr.write(x)))(s);
      process.exitCode = await runImport(file, opts, say, warn);
    });
}

async function runImport(file: string, opts: ImportCliOptions, say: (s: string) => void, warn: (s: string) => void): Promise<number> {
  const serverPorts = (opts.serverPort ?? []).map(Number);
  if (serverPorts.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    warn(`ssh-harness trace import: --server-port expects ports 1..65535, got ${JSON.stringify(opts.serverPort)}\n`);
    return 2;
  }
  let keylogNote: string | undefined;
  let decryptor: DecryptorFactory | undefined;
  if (opts.keylog !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.keylog, 'utf8');
    } catch (e) {
      warn(`ssh-harness trace import: cannot read --keylog ${JSON.stringify(opts.keylog)}: ${(e as Error).message}\n`);
      return 2;
    }
    const { entries, ignored } = parseKeylog(text);
    decryptor = keylogDecryptor(entries);
    keylogNote = `keylog: ${entries.length} entries read${ignored ? `, ${ignored} lines ignored` : ''}`;
  }

  mkdirSync(opts.out, { recursive: true });
  const base = basename(file, extname(file)) || 'capture';
  const jsonlPath = join(opts.out, `${base}.jsonl`);
  const corpusPath = join(opts.out, `${base}.corpus.json`);
  const jsonl = new FileSink(jsonlPath, 1 << 20);
  let result: ImportResult;
  try {
    result = await importPcap(file, {
      onLine: (l) => jsonl.write(Buffer.from(`${JSON.stringify(l)}\n`)),
      unsafeLogSecrets: opts.unsafeLogSecrets ?? false,
      rawHex: opts.rawHex ?? false,
      reassembly: { serverPorts },
      ...(decryptor ? { decryptor } : {}),
      pcap: { strict: opts.strict ?? false },
    });
  } catch (e) {
    if (e instanceof PcapFormatError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      warn(`ssh-harness trace import: ${JSON.stringify(file)}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  } finally {
    jsonl.close();
  }
  writeFileSync(corpusPath, `${JSON.stringify(result.corpus, null, 2)}\n`);

  const c = result.corpus;
  if (opts.json) {
    say(`${JSON.stringify({ file, jsonl: jsonlPath, corpus: corpusPath, partial: c.partial, stats: result.stats, issues: c.issues,
      connections: c.connections.map((x) => ({ id: x.id, client: x.client, server: x.server, banners: x.banners, messages: x.messages.length, encryptedBytes: x.encryptedBytes, partial: x.partial, issues: x.issues })),
      ...(keylogNote ? { note: keylogNote } : {}) })}\n`);
  } else {
    const s = result.stats;
    const others = s.otherConnections ? ` (+${s.otherConnections} non-SSH TCP connections left out)` : '';
    say(`imported ${file}: ${s.records} records, ${c.connections.length} connection(s)${others}, ${s.messages} messages${c.partial ? ' (PARTIAL)' : ''}\n`);
    for (const i of c.issues) say(`  ${i.kind}${i.record !== undefined ? ` record ${i.record}` : ''}${i.offset !== undefined ? ` at offset ${i.offset}` : ''}: ${i.message}\n`);
    for (const x of c.connections) {
      // peer-supplied strings are quoted (STYLE: escape before they reach a terminal)
      say(`  conn ${x.id} ${x.client.ip}:${x.client.port} -> ${x.server.ip}:${x.server.port} client ${JSON.stringify(x.banners.client ?? null)} server ${JSON.stringify(x.banners.server ?? null)}: ` +
        `${x.messages.length} messages, encrypted ${x.encryptedBytes.c2s}/${x.encryptedBytes.s2c} bytes c2s/s2c${x.partial ? ' (partial)' : ''}\n`);
      for (const i of x.issues) say(`    ${i.kind}${i.direction ? ` ${i.direction}` : ''}${i.offset !== undefined ? ` at stream offset ${i.offset}` : ''}: ${i.message}\n`);
    }
    if (keylogNote) say(`  ${keylogNote}\n`);
    say(`wrote ${jsonlPath}\nwrote ${corpusPath}\n`);
  }
  return c.partial ? 1 : 0;
}
