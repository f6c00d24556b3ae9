/**
 * Writes that a kill cannot tear: the bytes go to a temporary file beside the target (same directory, so the same
 * file system), are flushed to disk, and the file is renamed over the target. rename(2) is atomic on POSIX file
 * systems (and on NFS for a same-directory rename), so a reader — `fuzz merge`, a restarted shard — sees the old
 * file or the new one, never half of one. Temporary names start with a dot and end in `.tmp`, so directory scans
 * skip the leftovers of a writer killed between write and rename.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** True for the temporary files of writeFileAtomic (to be ignored by readers). */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    // the data must be on disk before the name points at it, or a crash could publish an empty file
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

/** Makes the rename itself durable; some file systems (and all of Windows) refuse to open a directory: best effort. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here: the rename is still atomic, only its durability across a power loss is weaker
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
