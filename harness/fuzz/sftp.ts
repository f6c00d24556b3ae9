/**
 * SFTP packets for the fuzzer's `sftp` step: protocol version 3 (draft-ietf-secsh-filexfer-02 §3-§8, what
 * OpenSSH and Dropbear's sftp-server speak) and OpenSSH's extensions (OpenSSH PROTOCOL §4). A packet is kept
 * as data (type, request id, arguments) so corpus files stay readable and replay byte for byte; the argument's
 * JavaScript type says its wire type: number = uint32, bigint = uint64, string = UTF-8 string, bytes = string,
 * an object = ATTRS (§5), which writes exactly the fields present, whatever its flags claim.
 */

import { Writer } from '../../impl/wire/index.js';

export const SFTP_TYPES = {
  INIT: 1, OPEN: 3, CLOSE: 4, READ: 5, WRITE: 6, LSTAT: 7, FSTAT: 8, SETSTAT: 9, FSETSTAT: 10, OPENDIR: 11, READDIR: 12,
  REMOVE: 13, MKDIR: 14, RMDIR: 15, REALPATH: 16, STAT: 17, RENAME: 18, READLINK: 19, SYMLINK: 20, EXTENDED: 200,
} as const;

/** draft-ietf-secsh-filexfer-02 §5: which ATTRS fields follow the flags word. */
export const ATTR = { SIZE: 0x1, UIDGID: 0x2, PERMISSIONS: 0x4, ACMODTIME: 0x8, EXTENDED: 0x80000000 } as const;

export interface SftpAttrs {
  readonly flags: number;
  readonly size?: bigint;
  readonly uid?: number;
  readonly gid?: number;
  readonly permissions?: number;
  readonly atime?: number;
  readonly mtime?: number;
  readonly extended?: readonly (readonly [string, Uint8Array])[];
}

export type SftpArg = number | bigint | string | Uint8Array | SftpAttrs;

export interface SftpPacket {
  readonly type: number;
  /** The request id; INIT's version number (INIT has no id, §4). */
  readonly id: number;
  readonly args: readonly SftpArg[];
  /** A length field that lies (else the real one). */
  readonly length?: number;
}

/** Largest encoded stream one step sends (the generators stay far below it). */
export const MAX_SFTP_STREAM = 64 * 1024;

function writeAttrs(w: Writer, a: SftpAttrs): void {
  w.uint32(a.flags);
  if (a.size !== undefined) w.uint64(a.size);
  if (a.uid !== undefined) w.uint32(a.uid);
  if (a.gid !== undefined) w.uint32(a.gid);
  if (a.permissions !== undefined) w.uint32(a.permissions);
  if (a.atime !== undefined) w.uint32(a.atime);
  if (a.mtime !== undefined) w.uint32(a.mtime);
  if (a.extended) {
    w.uint32(a.extended.length);
    for (const [name, data] of a.extended) w.string(name).string(data);
  }
}

function writeArg(w: Writer, a: SftpArg): void {
  if (typeof a === 'number') w.uint32(a);
  else if (typeof a === 'bigint') w.uint64(a);
  else if (typeof a === 'string' || a instanceof Uint8Array) w.string(a);
  else writeAttrs(w, a);
}

/** One packet: uint32 length, byte type, uint32 id (INIT: version), arguments (§3). */
export function encodeSftpPacket(p: SftpPacket): Buffer {
  const w = new Writer(64).byte(p.type).uint32(p.id);
  for (const a of p.args) writeArg(w, a);
  const body = w.finish();
  const out = new Writer(body.length + 4).uint32(p.length ?? body.length).raw(body).finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Packets back to back, as one channel's data stream carries them; bounded by MAX_SFTP_STREAM. */
export function encodeSftpStream(packets: readonly SftpPacket[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (const p of packets) {
    const b = encodeSftpPacket(p);
    if (size + b.length > MAX_SFTP_STREAM) break;
    parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts, size);
}

const NAMES = new Map<number, string>(Object.entries(SFTP_TYPES).map(([k, v]) => [v, k]));

/** `OPEN,READ,EXTENDED posix-rename@openssh.com` (progress lines, corpus notes). */
export function describeSftp(packets: readonly SftpPacket[]): string {
  return packets.map((p) => {
    const name = NAMES.get(p.type) ?? `type ${p.type}`;
    return p.type === SFTP_TYPES.EXTENDED && typeof p.args[0] === 'string' ? `${name} ${p.args[0]}` : name;
  }).join(',');
}

const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function isAttrs(v: unknown): v is SftpAttrs {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return false;
  const a = v as Record<string, unknown>;
  const ext = a.extended;
  return isU32(a.flags) && (a.size === undefined || typeof a.size === 'bigint')
    && ['uid', 'gid', 'permissions', 'atime', 'mtime'].every((k) => a[k] === undefined || isU32(a[k]))
    && (ext === undefined || (Array.isArray(ext) && ext.every((e) => Array.isArray(e) && typeof e[0] === 'string' && e[1] instanceof Uint8Array)));
}

/** A packet as a corpus file must hold it (after value.ts fromJson): anything else is a format error, not a crash. */
export function isSftpPacket(v: unknown): v is SftpPacket {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return isU32(p.type) && (p.type as number) <= 255 && isU32(p.id) && (p.length === undefined || isU32(p.length)) && Array.isArray(p.args)
    && p.args.every((a) => isU32(a) || typeof a === 'bigint' || typeof a === 'string' || a instanceof Uint8Array || isAttrs(a));
}
