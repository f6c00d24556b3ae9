/**
 * Arbitraries for SFTP packets (harness/fuzz/sftp.ts): every request of version 3 and every extension
 * OpenSSH 9.2's sftp-server answers, with near-valid arguments (handles as the 4-byte indices sftp-server hands
 * out, boundary offsets and lengths, ATTRS whose flags and fields disagree) and, sometimes, a lying length or an
 * unknown type.
 *
 * Safety: the fuzzed server runs these as the test account on a real file system. Everything that writes,
 * removes, renames, links or changes attributes names only paths under SCRATCH_DIR (symlink and hardlink targets
 * too, so a later write through a link cannot leave it); elsewhere only reads and lookups happen. Writes stay
 * below 1 MiB + 64 bytes of offset and copy-data copies at most 64 KiB, so files in SCRATCH_DIR stay small.
 */
import fc from 'fast-check';
import { ATTR, SFTP_TYPES as T, type SftpArg, type SftpAttrs, type SftpPacket } from '../sftp.js';
import { BOUNDARY_U32 } from './primitives.js';

export const SCRATCH_DIR = '/tmp/ssh-harness-sftp-fuzz';

/**
 * Where a write may land: a few names in the scratch directory. The directory itself only where a directory is
 * meant (MKDIR, RMDIR, SETSTAT): a file or link created under its name would block every later write.
 */
const scratchPathArb = fc.constantFrom('/a', '/b', '/d', '/d/x', '/link', '/d/..', '/nonexistent/x').map((s) => SCRATCH_DIR + s);
const scratchDirArb = fc.oneof({ weight: 3, arbitrary: fc.constant(SCRATCH_DIR) }, { weight: 2, arbitrary: scratchPathArb });
/** Where a read or lookup may look: anywhere, including names that do not exist, are not readable or are too long. */
const anyPathArb = fc.oneof(
  { weight: 3, arbitrary: scratchDirArb },
  { weight: 3, arbitrary: fc.constantFrom('/', '.', '', '..', '/etc', '/etc/hostname', '/etc/shadow', '/nonexistent', '/proc/self/status', '/dev/null', '/tmp/../etc', '//etc///hostname') },
  { weight: 1, arbitrary: fc.constantFrom('~', '~/', '~root', '~sshharness/x', '~nosuchuser/x', '~/../..') },
  { weight: 1, arbitrary: fc.constantFrom(`/${'a'.repeat(300)}`, `${'a/'.repeat(2100)}x`, 'a\u0000b', '\u00e9\u00e8/\ud83d\ude00') },
);

/** Handles are the string form of sftp-server's handle index (4 bytes); other lengths are refused. */
const handleArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => Uint8Array.of(0, 0, 0, i)) },
  { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_U32).map((n) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 9 }) },
);

/** Offsets: the start, small ones, and the boundaries of 32-bit and signed 64-bit arithmetic (reads only). */
const readOffsetArb = fc.constantFrom(0n, 1n, 4095n, 4096n, 1n << 31n, 1n << 32n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n);
const writeOffsetArb = fc.constantFrom(0n, 1n, 100n, 4096n, 1n << 20n);
const readLengthArb = fc.oneof(fc.constantFrom(0, 1, 4096, 32768, 65536, 261120, 262144, 0xffffffff), fc.nat({ max: 70000 }));

const attrsArb: fc.Arbitrary<SftpAttrs> = fc.record({
  flags: fc.oneof(
    { weight: 4, arbitrary: fc.subarray([ATTR.SIZE, ATTR.UIDGID, ATTR.PERMISSIONS, ATTR.ACMODTIME]).map((xs) => xs.reduce((a, b) => a | b, 0)) },
    { weight: 1, arbitrary: fc.constantFrom(ATTR.EXTENDED, 0xffffffff, 0x10, 0x7fffffff) },
  ),
  size: fc.constantFrom(0n, 1n, 100n, 1n << 20n),
  uid: fc.constantFrom(0, 1000, 0xffffffff),
  gid: fc.constantFrom(0, 1000, 0xffffffff),
  permissions: fc.constantFrom(0o600, 0o644, 0o755, 0o4755, 0o1777, 0o170777, 0xffffffff),
  atime: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff),
  mtime: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff),
  extended: fc.array(fc.tuple(fc.constantFrom('', 'x@example.com', 'acl'), fc.uint8Array({ maxLength: 8 })), { maxLength: 2 }),
}, { requiredKeys: ['flags'] }).map((a) => a.size !== undefined && a.size > 1n << 20n ? { ...a, size: 1n << 20n } : a);

/** pflags (§6.3): READ 1, WRITE 2, APPEND 4, CREAT 8, TRUNC 0x10, EXCL 0x20, and bits nobody assigned. */
const readFlagsArb = fc.constantFrom(1, 0, 0x40, 0x80000000);
const writeFlagsArb = fc.oneof(
  fc.subarray([1, 2, 4, 8, 0x10, 0x20]).map((xs) => xs.reduce((a, b) => a | b, 0)),
  fc.constantFrom(2 | 8, 1 | 2 | 8 | 0x10, 2 | 8 | 0x20, 0xffffffff),
);

type Args = fc.Arbitrary<readonly SftpArg[]>;
const args = (...xs: fc.Arbitrary<SftpArg>[]): Args => fc.tuple(...xs);

/** Requests by type, arguments in order (§6-§8). */
const REQUESTS: ReadonlyArray<readonly [number, Args, number]> = [
  [T.OPEN, fc.oneof(args(anyPathArb, readFlagsArb, attrsArb), args(scratchPathArb, writeFlagsArb, attrsArb)), 4],
  [T.CLOSE, args(handleArb), 2],
  [T.READ, args(handleArb, readOffsetArb, readLengthArb), 3],
  // only a handle opened for writing (a scratch file) accepts the data
  [T.WRITE, args(handleArb, writeOffsetArb, fc.uint8Array({ maxLength: 64 })), 3],
  [T.LSTAT, args(anyPathArb), 1],
  [T.FSTAT, args(handleArb), 1],
  [T.SETSTAT, args(scratchDirArb, attrsArb), 1],
  [T.FSETSTAT, args(handleArb, attrsArb), 1],
  [T.OPENDIR, args(anyPathArb), 2],
  [T.READDIR, args(handleArb), 2],
  [T.REMOVE, args(scratchPathArb), 1],
  [T.MKDIR, args(scratchDirArb, attrsArb), 2],
  [T.RMDIR, args(scratchDirArb), 1],
  [T.REALPATH, args(anyPathArb), 2],
  [T.STAT, args(anyPathArb), 1],
  [T.RENAME, args(scratchPathArb, scratchPathArb), 1],
  [T.READLINK, args(anyPathArb), 1],
  [T.SYMLINK, args(scratchPathArb, scratchPathArb), 1],
];

/** OpenSSH PROTOCOL §4 extensions sftp-server 9.2 answers, with their arguments after the name. */
const EXTENSIONS: ReadonlyArray<readonly [string, Args]> = [
  ['posix-rename@openssh.com', args(scratchPathArb, scratchPathArb)],
  ['statvfs@openssh.com', args(anyPathArb)],
  ['fstatvfs@openssh.com', args(handleArb)],
  ['hardlink@openssh.com', args(scratchPathArb, scratchPathArb)],
  ['fsync@openssh.com', args(handleArb)],
  ['lsetstat@openssh.com', args(scratchPathArb, attrsArb)],
  ['limits@openssh.com', args()],
  ['expand-path@openssh.com', args(anyPathArb)],
  // read handle, offset, length (bounded: 0 would mean "to the end"), write handle, offset
  ['copy-data', args(handleArb, fc.constantFrom(0n, 1n, 4096n), fc.constantFrom(1n, 100n, 65536n), handleArb, writeOffsetArb)],
  ['home-directory', args(fc.constantFrom('sshharness', 'root', '', 'nosuchuser'))],
  ['users-groups-by-id@openssh.com', args(fc.array(fc.constantFrom(0, 1, 1000, 65534, 0xffffffff), { maxLength: 4 }).map(u32s), fc.array(fc.constantFrom(0, 4, 1000, 0xffffffff), { maxLength: 4 }).map(u32s))],
];

function u32s(xs: readonly number[]): Uint8Array {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return b;
}

const idArb = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 64 }) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_U32) });

const requestArb: fc.Arbitrary<SftpPacket> = fc.oneof(
  ...REQUESTS.map(([type, a, weight]) => ({ weight, arbitrary: fc.tuple(idArb, a).map(([id, xs]): SftpPacket => ({ type, id, args: xs })) })),
  { weight: 4, arbitrary: fc.tuple(idArb, fc.constantFrom(...EXTENSIONS)).chain(([id, [name, a]]) => a.map((xs): SftpPacket => ({ type: T.EXTENDED, id, args: [name, ...xs] }))) },
  { weight: 1, arbitrary: fc.tuple(idArb, fc.constantFrom('', 'nosuch@openssh.com', 'statvfs@openssh.com'), fc.uint8Array({ maxLength: 16 })).map(([id, name, b]): SftpPacket => ({ type: T.EXTENDED, id, args: [name, b] })) },
  // a second INIT, reply types a client must not send, numbers nobody assigned
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(1, 0, 2, 21, 101, 102, 103, 104, 105, 201, 255), idArb, fc.uint8Array({ maxLength: 12 })).map(([type, id, b]): SftpPacket => ({ type, id, args: [b] })) },
);

/** Packet lengths that lie (§3: the length counts everything after itself), including sftp-server's 256 KiB limit. */
const lyingLengthArb = fc.constantFrom(0, 1, 4, 5, 256 * 1024, 256 * 1024 + 1, 0xffffffff);

export const sftpPacketArb: fc.Arbitrary<SftpPacket> = fc.oneof(
  { weight: 20, arbitrary: requestArb },
  { weight: 1, arbitrary: fc.tuple(requestArb, lyingLengthArb).map(([p, length]) => ({ ...p, length })) },
);

/** The version a client announces in SSH_FXP_INIT (§4): 3, older, newer, absurd. */
export const sftpVersionArb = fc.oneof({ weight: 8, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 4, 6, 0xffffffff) });
