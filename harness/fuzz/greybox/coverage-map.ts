/**
 * The file an instrumented server writes its edge flags into (harness/targets/instrumented/cov-runtime.c): a
 * 4096-byte header page ("SSHCOV2\0", the number of flags mapped as a little-endian uint32 at offset 8), then
 * one byte per edge, 1 once the edge ran. The server maps the file over its flag section (MAP_SHARED), so the
 * flags are the file's pages; plain fs on a /dev/shm file sees them, and writes through the file descriptor
 * (zeroing before a case) reach the server.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const COV_HEADER = 4096;
/** Flag slots of a new map (a multiple of the page size): more than either instrumented server has edges. */
export const DEFAULT_SLOTS = 1 << 20;
export const COV_ENV = 'SSH_HARNESS_COV_MAP';

/** Files this process created and has not removed: gone at exit too (a campaign ended by Ctrl-C leaves none in /dev/shm). */
const created = new Set<string>();
let exitHook = false;

/** Creates an all-zero map file (in /dev/shm when there is one) and returns its path. */
export function createCoverageFile(label: string, slots = DEFAULT_SLOTS): string {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `ssh-harness-cov-${label.replace(/[^\w.-]+/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(path, 'wx', 0o600);
  try { ftruncateSync(fd, COV_HEADER + slots); } finally { closeSync(fd); }
  created.add(path);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const p of created) rmSync(p, { force: true }); });
  }
  return path;
}

export function removeCoverageFile(path: string): void {
  rmSync(path, { force: true });
  created.delete(path);
}

export class CoverageMap {
  private readonly fd: number;
  /** The header's fields (magic, flag count): the rest of its page is unused. */
  private readonly header = Buffer.alloc(16);
  private buf: Buffer = Buffer.alloc(0);
  private zeros: Buffer = Buffer.alloc(0);

  constructor(readonly path: string, readonly slots = DEFAULT_SLOTS) {
    this.fd = openSync(path, 'r+');
  }

  /** Edge flags the server mapped (0 until an instrumented process has mapped the file). */
  guards(): number {
    readSync(this.fd, this.header, 0, this.header.length, 0);
    if (this.header.toString('latin1', 0, 7) !== 'SSHCOV2') return 0;
    return this.header.readUInt32LE(8);
  }

  /** Flags in use: as many as the server mapped, bounded by the file. */
  private width(): number {
    const g = this.guards();
    return Math.min(g || this.slots, this.slots);
  }

  /** Zeroes every counter (before a case). */
  reset(): void {
    const n = this.width();
    if (this.zeros.length < n) this.zeros = Buffer.alloc(n);
    writeSync(this.fd, this.zeros, 0, n, COV_HEADER);
  }

  /** The flags now (a view into a reused buffer: valid until the next read). */
  read(): Uint8Array {
    const n = this.width();
    if (this.buf.length !== n) this.buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      const got = readSync(this.fd, this.buf, off, n - off, COV_HEADER + off);
      if (got <= 0) break;
      off += got;
    }
    return this.buf.subarray(0, off);
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* closed */ }
  }
}
