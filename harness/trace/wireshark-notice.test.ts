/**
 * serve/exec with --pcap/--keylog: the default offer (mlkem768x25519-sha256, chacha20-poly1305 under strict kex)
 * gives traces no Wireshark here decrypts; the CLI says so once per process and names `--algorithms` that fix it.
 * Proven end to end: the session recorded with the suggested flag decrypts in tshark 4.0 and 4.4, the default one
 * in neither, and `trace import --keylog` decrypts the default one.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAlgorithmsFlag } from '../cli/serve.js';
import { containerJudge, hostJudge, requireTshark, requireTshark44, tshark40CanDecrypt } from './tshark.js';
import { CIPHER_SUPPORT, cipherSupport, offerProblems, traceDecryptionNotice } from './wireshark-support.js';

const MAIN = ['--import', 'tsx', 'harness/cli/main.ts'];
const NOTICE = /ssh-harness: note: --pcap\/--keylog: Wireshark/g;

interface Ran { readonly code: number | null; readonly stdout: string; readonly stderr: string }

function cli(args: readonly string[], input = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d; });
    c.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('error', reject);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    c.stdin.end(input);
  });
}

describe('trace: the notice for --pcap/--keylog with algorithms Wireshark cannot decrypt', function () {
  this.timeout(120_000);

  it('names what the default offer allows, and a suggestion that has nothing left to say', () => {
    const n = traceDecryptionNotice(undefined)!;
    for (const name of ['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'ecdh-sha2-nistp256', 'chacha20-poly1305@openssh.com']) expect(n).to.include(name);
    expect(n).to.include('trace import --keylog');
    const suggested = /use --algorithms (\S+)\n$/.exec(n)![1]!;
    expect(suggested).to.equal('kex=curve25519-sha256,cipher=aes128-gcm@openssh.com');
    expect(traceDecryptionNotice(parseAlgorithmsFlag(suggested))).to.equal(undefined);
    // the user's other kinds are kept; only the problem is replaced
    const p = offerProblems(parseAlgorithmsFlag('kex=sntrup761x25519-sha512:curve25519-sha256,hostkey=rsa-sha2-512,cipher=aes256-ctr,mac=umac-128-etm@openssh.com'));
    expect(p).to.deep.include({ kex: ['sntrup761x25519-sha512'], mac: 'umac-128-etm@openssh.com' });
    expect(p.suggestion).to.equal('kex=curve25519-sha256,hostkey=rsa-sha2-512,cipher=aes256-ctr,mac=hmac-sha2-256');
    expect(traceDecryptionNotice(parseAlgorithmsFlag('kex=curve25519-sha256:diffie-hellman-group14-sha256,cipher=aes256-gcm@openssh.com'))).to.equal(undefined);
  });

  it('the rule behind the notice agrees with every measured cipher/MAC row', () => {
    for (const r of CIPHER_SUPPORT) expect(cipherSupport(r.cipher, r.mac, r.strictKex), JSON.stringify(r)).to.deep.equal(r.support);
  });

  it('end to end: said once per process; the suggested flag gives a trace both tsharks decrypt, the default one neither (trace import does)', async function () {
    requireTshark(this);
    await requireTshark44(this);
    const dir = mkdtempSync(join(tmpdir(), 'trace-notice-'));
    const serve = spawn(process.execPath, [...MAIN, 'serve', '--port', '0', '--user', 'u', '--password', 'pw', '--pcap', join(dir, 'pcap'), '--keylog', join(dir, 'server.keylog')],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let serveErr = '';
    let port = 0;
    serve.stderr.on('data', (d: Buffer) => { serveErr += d; });
    try {
      port = await new Promise<number>((resolve, reject) => {
        let buf = '';
        serve.stdout.on('data', (d: Buffer) => { buf += d; const m = /listening on \S+:(\d+)\n/.exec(buf); if (m) resolve(Number(m[1])); });
        serve.on('close', () => reject(new Error(`serve exited: ${serveErr}`)));
      });
      const url = `ssh://u@127.0.0.1:${port}`;
      const common = ['--password', 'pw', '--accept-new', '--known-hosts', join(dir, 'known_hosts')];
      const first = await cli(['exec', url, ...common, '--keylog', join(dir, 'client.keylog'), '--', 'echo', 'first']);
      expect(first.stdout).to.equal('first\n');
      expect(first.stderr.match(NOTICE), first.stderr).to.have.length(1);
      const suggested = /use --algorithms (\S+)\n/.exec(first.stderr)![1]!;
      const second = await cli(['exec', url, ...common, '--algorithms', suggested, '--keylog', join(dir, 'client.keylog'), '--', 'echo', 'second']);
      expect(second.stdout).to.equal('second\n');
      expect(second.stderr).to.not.match(NOTICE);
    } finally {
      const closed = new Promise((r) => serve.once('close', r));
      serve.kill('SIGTERM');
      await closed;
    }
    try {
      expect(serveErr.match(NOTICE), serveErr).to.have.length(1); // two connections, one notice
      const pcaps = readdirSync(join(dir, 'pcap')).filter((f) => f.endsWith('.pcap')).sort((a, b) => Number(/-(\d+)\.pcap$/.exec(a)![1]) - Number(/-(\d+)\.pcap$/.exec(b)![1]));
      expect(pcaps).to.have.length(2);
      const args = (f: string, keylog: string) => ['-r', join(dir, 'pcap', f), '-d', `tcp.port==${port},ssh`, '-o', `ssh.keylog_file:${join(dir, keylog)}`,
        '-Y', 'ssh', '-T', 'fields', '-e', 'ssh.userauth_user_name', '-e', 'ssh.service_name'];
      const jobs = [args(pcaps[0]!, 'server.keylog'), args(pcaps[1]!, 'server.keylog'), args(pcaps[1]!, 'client.keylog')];
      const [h, c] = await Promise.all([hostJudge().run(jobs), containerJudge([dir]).run(jobs)]);
      for (const [v, out] of [['4.0', h], ['4.4', c]] as const) {
        const decoded = out.map((o) => {
          const rows = o.stdout.split('\n').map((l) => l.split('\t'));
          return { users: rows.map((r) => r[0]).filter(Boolean), services: rows.map((r) => r[1]).filter(Boolean) };
        });
        // (a wrong key can make 4.0 show garbage, never these values)
        expect(decoded[0]!.users, `tshark ${v}, default offer`).to.not.include('u');
        expect(decoded[0]!.services, `tshark ${v}, default offer`).to.not.include('ssh-userauth');
        // (1 session in 256 has a shared secret 4.0 cannot use: documented, and 4.4 must still decrypt it)
        if (v === '4.0' && !tshark40CanDecrypt(readFileSync(join(dir, 'client.keylog'), 'utf8'), 'last')) continue;
        for (const i of [1, 2]) {
          expect(decoded[i], `tshark ${v}, suggested offer, ${i === 1 ? 'server' : 'client'} keylog`).to.deep.equal({ users: ['u'], services: ['ssh-userauth', 'ssh-userauth'] });
        }
      }
      const imported = await cli(['trace', 'import', join(dir, 'pcap', pcaps[0]!), '--keylog', join(dir, 'server.keylog'), '--out', join(dir, 'import')]);
      expect(imported.code, imported.stdout + imported.stderr).to.equal(0);
      const names = readFileSync(join(dir, 'import', pcaps[0]!.replace(/\.pcap$/, '.jsonl')), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name);
      expect(names).to.include.members(['SSH_MSG_USERAUTH_REQUEST', 'SSH_MSG_USERAUTH_SUCCESS', 'SSH_MSG_CHANNEL_REQUEST', 'SSH_MSG_CHANNEL_DATA']);
      expect(readFileSync(join(dir, 'pcap', pcaps[0]!.replace(/\.pcap$/, '.jsonl')), 'utf8')).to.include('mlkem768x25519-sha256');
    } finally {
      if (!process.env.KEEP_TRACE_TMP) rmSync(dir, { recursive: true, force: true });
    }
  });
});
