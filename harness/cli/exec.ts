/**
 * `ssh-harness exec ssh://user@host:port -- COMMAND` (README "Command line"): the reference client. Forwards stdin, prints
 * stdout/stderr, exits with the remote exit status. Host keys are checked against a known_hosts file
 * (--known-hosts FILE, default ~/.ssh/known_hosts) strictly; --accept-new adds unknown hosts.
 *
 * Exit codes: the remote status; 2 for usage/setup errors (bad flags, unreadable files);
 * 255 when the connection, host key check or authentication fails, or the command died by a signal (as ssh does).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
// the public package, as a user's program imports it: one bundled module in a built CLI (start-up time)
import { addKnownHost, checkKnownHost, fingerprintSHA256, HostKeyMismatch, parseKnownHosts, parsePrivateKey, SSHError, Transport, type PrivateKey, type PublicKey } from 'ssh-harness';
import { loadTraceWriters, parseAlgorithmsFlag, traceFor, UsageError } from './common.js';

export const EXIT_CONNECTION_FAILED = 255;

export interface SshUrl {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

/** ssh://[user@]host[:port] (RFC 3986 authority; IPv6 in brackets). */
export function parseSshUrl(url: string, defaultUser: string): SshUrl {
  const m = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(url);
  if (!m) throw new UsageError(`expected ssh://user@host:port, got ${JSON.stringify(url)}`);
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError(`bad port in ${JSON.stringify(url)}`);
  return { user: m[1] ? decodeURIComponent(m[1]) : defaultUser, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export type HostKeyPolicy =
  | { readonly mode: 'known-hosts'; readonly file: string; readonly acceptNew: boolean }
  | { readonly mode: 'accept-any' };

/**
 * Checks the server's key against known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): a match passes, a
 * different key or a revoked one is a HostKeyMismatch, an unknown host fails unless acceptNew (then the key is
 * appended, like StrictHostKeyChecking=accept-new).
 */
export function hostKeyVerifier(policy: HostKeyPolicy, host: string, port: number, warn: (s: string) => void): (key: PublicKey) => boolean {
  return (key) => {
    if (policy.mode === 'accept-any') return true;
    const text = existsSync(policy.file) ? readFileSync(policy.file, 'utf8') : '';
    const status = checkKnownHost(parseKnownHosts(text), host, port, key.blob);
    const fp = fingerprintSHA256(key.blob);
    if (status === 'match') return true;
    if (status === 'mismatch' || status === 'revoked') {
      throw new HostKeyMismatch(`${status === 'revoked' ? 'REVOKED' : 'CHANGED'} host key for ${host}:${port}: the server sent ${key.type} ${fp}, which ${policy.file} does not list for it`, { host, port, keyType: key.type, receivedFingerprint: fp });
    }
    if (!policy.acceptNew) throw new HostKeyMismatch(`no host key for ${host}:${port} in ${policy.file} (server sent ${key.type} ${fp}); pass --accept-new to add it`, { host, port, keyType: key.type, receivedFingerprint: fp });
    mkdirSync(dirname(policy.file), { recursive: true, mode: 0o700 }); // a fresh account has no ~/.ssh yet, as ssh(1) creates it
    appendFileSync(policy.file, `${text.length > 0 && !text.endsWith('\n') ? '\n' : ''}${addKnownHost(host, port, key.blob)}\n`);
    warn(`added ${host}:${port} (${key.type} ${fp}) to ${policy.file}`);
    return true;
  };
}

export interface ExecRun {
  readonly url: SshUrl;
  readonly command: string;
  readonly password?: string;
  readonly privateKey?: PrivateKey;
  readonly hostKeys: HostKeyPolicy;
  readonly algorithms?: ReturnType<typeof parseAlgorithmsFlag>;
  readonly keylog?: string;
  readonly pcapDir?: string;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Connects, runs the command, streams its I/O; resolves with the exit code for the process. */
export async function runExec(r: ExecRun): Promise<number> {
  const t = new Transport([r.url.host, r.url.port], {
    algorithms: r.algorithms,
    verifyHostKey: hostKeyVerifier(r.hostKeys, r.url.host, r.url.port, (s) => r.stderr.write(`ssh-harness: ${s}\n`)),
    trace: traceFor({ role: 'client', keylog: r.keylog, pcapDir: r.pcapDir, connection: 1, remote: { host: r.url.host, port: r.url.port } }),
  });
  t.on('banner', (m: string) => r.stderr.write(`${printable(m)}${m.endsWith('\n') ? '' : '\n'}`));
  try {
    await t.connect({ username: r.url.user, password: r.password, privateKey: r.privateKey });
    if (!t.isAuthenticated()) {
      // no credentials given: maybe the server accepts "none"
      await t.authNone(r.url.user);
    }
    const ch = await t.openSession();
    ch.pipe(r.stdout as NodeJS.WritableStream & import('node:stream').Writable, { end: false });
    ch.stderr.pipe(r.stderr as NodeJS.WritableStream & import('node:stream').Writable, { end: false });
    // 'close' without 'end': the connection died first (closeError below says so)
    const done = (side: import('node:stream').Readable): Promise<void> => new Promise((res) => { side.once('end', res); side.once('close', res); });
    const drained = Promise.all([done(ch), done(ch.stderr)]);
    await ch.exec(r.command);
    const input = r.stdin as NodeJS.ReadableStream & import('node:stream').Readable;
    input.pipe(ch);
    const code = await ch.exitStatus();
    await drained;
    input.unpipe(ch);
    input.pause();
    // the connection died before the output was complete: say so, whatever status came before
    if ((!ch.readableEnded || !ch.stderr.readableEnded) && (t.closeError ?? ch.error)) {
      r.stderr.write(`ssh-harness: connection lost before the command's output ended: ${(t.closeError ?? ch.error)!.message}\n`);
      return EXIT_CONNECTION_FAILED;
    }
    if (code !== null) return code;
    if (ch.exitSignal) {
      r.stderr.write(`ssh-harness: remote command killed by SIG${ch.exitSignal.signal}${ch.exitSignal.errorMessage ? `: ${ch.exitSignal.errorMessage}` : ''}\n`);
    } else if (t.closeError) {
      r.stderr.write(`ssh-harness: ${t.closeError.message}\n`);
    }
    return EXIT_CONNECTION_FAILED;
  } catch (e) {
    r.stderr.write(`ssh-harness: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_CONNECTION_FAILED;
  } finally {
    await t.close(200).catch(() => undefined);
  }
}

/** A peer-supplied text made safe for a terminal: control characters other than LF and TAB become \xHH (like vis(3)). */
export function printable(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function readIdentity(file: string, passphrase: string | undefined): PrivateKey {
  try {
    return parsePrivateKey(readFileSync(file), passphrase).toPrivateKey();
  } catch (e) {
    throw new UsageError(`--identity ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function register(program: Command): void {
  program
    .command('exec')
    .description('run COMMAND on an SSH server with the reference client; exits with the remote status')
    .argument('<url>', 'ssh://user@host:port')
    .argument('<command...>', 'remote command (after --)')
    .option('--password <pw>', 'password authentication')
    .option('--identity <file>', 'private key for publickey authentication (OpenSSH or PEM)')
    .option('--passphrase <pw>', 'passphrase of an encrypted --identity (or env SSH_HARNESS_PASSPHRASE)')
    .option('--known-hosts <file>', 'known_hosts file for the strict host key check (default ~/.ssh/known_hosts)')
    .option('--accept-new', 'accept and record an unknown host key (a changed key is still refused)')
    .option('--algorithms <spec>', 'kind=name[:name...] pairs joined by commas (kinds: kex, hostkey, cipher, mac, compression)')
    .option('--keylog <file>', 'write an SSH keylog (Wireshark format)')
    .option('--pcap <dir>', 'write a pcap of the connection into this directory')
    .action(async (url: string, words: string[], flags: Record<string, unknown>) => {
      try {
        const target = parseSshUrl(url, process.env.USER ?? 'root');
        const knownHosts = typeof flags.knownHosts === 'string' ? flags.knownHosts : join(homedir(), '.ssh', 'known_hosts');
        const passphrase = (flags.passphrase as string | undefined) ?? process.env.SSH_HARNESS_PASSPHRASE;
        const run: ExecRun = {
          url: target,
          command: words.join(' '),
          password: flags.password as string | undefined,
          privateKey: typeof flags.identity === 'string' ? readIdentity(flags.identity, passphrase) : undefined,
          hostKeys: { mode: 'known-hosts', file: knownHosts, acceptNew: flags.acceptNew === true },
          algorithms: typeof flags.algorithms === 'string' ? parseAlgorithmsFlag(flags.algorithms) : undefined,
          keylog: flags.keylog as string | undefined,
          pcapDir: flags.pcap as string | undefined,
          stdin: process.stdin,
          stdout: process.stdout,
          stderr: process.stderr,
        };
        await loadTraceWriters(run);
        process.exitCode = await runExec(run);
        // stdin may still be open (a terminal): do not wait for it
        process.stdin.destroy();
      } catch (e) {
        process.stderr.write(`ssh-harness exec: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = e instanceof UsageError || (e instanceof SSHError && e.code === 'USAGE') ? 2 : EXIT_CONNECTION_FAILED;
      }
    });
}
