/**
 * The known host keys of an SSHClient (paramiko's HostKeys): system files that are read only, and one user file
 * that new keys are appended to in OpenSSH's known_hosts format (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT: plain or
 * hashed `|1|salt|hash` names, `[host]:port` off port 22). Lookups follow ssh(1): a revoked key or a different key
 * of the same type for the host refuses; a listed key accepts; otherwise the host is unknown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SSHError } from '../errors.js';
import {
  addKnownHost, checkKnownHost, findKnownHostEntries, knownHostKeyTypes, parseKnownHosts, type KnownHostsDb, type KnownHostStatus,
} from '../keys/known-hosts.js';
import { peekBlobType } from '../keys/public-blob.js';

/** One known_hosts file as read (a missing file reads as empty). */
interface LoadedFile {
  readonly path: string | undefined;
  readonly exists: boolean;
  db: KnownHostsDb;
}

export interface KnownHostsLookup {
  readonly status: KnownHostStatus;
  /** Keys of the presented key's type listed for the host (what a 'mismatch' expected). */
  readonly expected: readonly Uint8Array[];
}

export class KnownHostsStore {
  private readonly system: LoadedFile[] = [];
  private user: LoadedFile = { path: undefined, exists: false, db: { entries: [], problems: [] } };

  /** The known hosts consulted, for error messages: "known_hosts /root/.ssh/known_hosts (missing), /etc/ssh/ssh_known_hosts". */
  describeFiles(): string {
    const files = [...this.system, this.user].filter((f) => f.path !== undefined);
    if (files.length === 0) return this.user.db.entries.length ? 'the known hosts added in memory' : 'the known hosts (none loaded: call loadSystemHostKeys() or loadHostKeys(path))';
    return `known_hosts ${files.map((f) => `${f.path}${f.exists ? '' : ' (missing)'}`).join(', ')}`;
  }

  /** The file new keys are appended to (loadUser), if any. */
  get userFile(): string | undefined { return this.user.path; }

  loadSystem(path: string, missingOk: boolean): void {
    this.system.push(readKnownHosts(path, missingOk));
  }

  loadUser(path: string): void {
    this.user = readKnownHosts(path, true);
  }

  /** Parses known_hosts text into the user set without a file (keys added later are kept in memory only). */
  addText(text: string): void {
    const extra = parseKnownHosts(text);
    this.user.db = { entries: [...this.user.db.entries, ...extra.entries], problems: [...this.user.db.problems, ...extra.problems] };
  }

  lookup(host: string, port: number, blob: Uint8Array): KnownHostsLookup {
    const dbs = [...this.system.map((f) => f.db), this.user.db];
    const statuses = dbs.map((db) => checkKnownHost(db, host, port, blob));
    const type = peekBlobType(blob);
    const expected = dbs.flatMap((db) => findKnownHostEntries(db, host, port)
      .filter((e) => e.marker === null && e.type === type).map((e) => e.blob));
    // a revocation anywhere wins; then a listed key; then a changed key (ssh(1) check_host_key)
    for (const s of ['revoked', 'match', 'mismatch'] as const) if (statuses.includes(s)) return { status: s, expected };
    return { status: 'unknown', expected };
  }

  /** Key types known for the host, in file order (ssh(1) offers these host key algorithms first). */
  knownTypes(host: string, port: number): string[] {
    const out: string[] = [];
    for (const db of [...this.system.map((f) => f.db), this.user.db]) for (const t of knownHostKeyTypes(db, host, port)) if (!out.includes(t)) out.push(t);
    return out;
  }

  /** CA keys of `@cert-authority` lines whose host patterns match host:port (OpenSSH PROTOCOL.certkeys, sshd(8) SSH_KNOWN_HOSTS FILE FORMAT). */
  certificateAuthorities(host: string, port: number): Uint8Array[] {
    return [...this.system.map((f) => f.db), this.user.db].flatMap((db) => findKnownHostEntries(db, host, port)
      .filter((e) => e.marker === 'cert-authority').map((e) => e.blob));
  }

  /** True when an `@revoked` line for host:port (or `*`) lists this key: a revoked CA or certified key is refused. */
  isRevoked(host: string, port: number, blob: Uint8Array): boolean {
    return [...this.system.map((f) => f.db), this.user.db].some((db) => findKnownHostEntries(db, host, port)
      .some((e) => e.marker === 'revoked' && Buffer.compare(Buffer.from(e.blob), Buffer.from(blob)) === 0));
  }

  /**
   * Adds host:port → key to the user set and appends the line to the user file when one was loaded (created
   * with mode 0600, its directory 0700, as ssh(1) does). Returns the line.
   */
  async add(host: string, port: number, blob: Uint8Array, opts: { readonly hash?: boolean } = {}): Promise<string> {
    const line = addKnownHost(host, port, blob, { hash: opts.hash === true });
    this.addText(line);
    const path = this.user.path;
    if (path === undefined) return line;
    try {
      const current = await stat(path).then((s) => s.size, () => -1);
      if (current < 0) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await writeFile(path, `${line}\n`, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code === 'EEXIST') await appendFile(path, `${line}\n`); else throw e;
        });
      } else {
        // keep the file line-structured when its last line has no newline
        const tail = current > 0 ? (await readFile(path)).subarray(-1).toString() : '\n';
        await appendFile(path, `${tail === '\n' ? '' : '\n'}${line}\n`);
      }
    } catch (e) {
      throw new SSHError('USAGE', `cannot record the host key of ${host}:${port} in ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return line;
  }

  /** All user-set lines (what saveHostKeys writes): the file's valid lines and the keys added since. */
  userText(): string {
    return this.user.db.entries.map((e) => `${e.marker ? `@${e.marker} ` : ''}${e.hosts.kind === 'patterns' ? e.hosts.patterns : `|1|${Buffer.from(e.hosts.salt).toString('base64')}|${Buffer.from(e.hosts.hash).toString('base64')}`} ${e.type} ${Buffer.from(e.blob).toString('base64')}${e.comment ? ` ${e.comment}` : ''}`).join('\n') + (this.user.db.entries.length ? '\n' : '');
  }
}

function readKnownHosts(path: string, missingOk: boolean): LoadedFile {
  if (!existsSync(path)) {
    if (!missingOk) throw new SSHError('USAGE', `known_hosts file ${path} does not exist`);
    return { path, exists: false, db: { entries: [], problems: [] } };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SSHError('USAGE', `cannot read known_hosts file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { path, exists: true, db: parseKnownHosts(text) };
}
