/**
 * Transport checks that need more than data: the Terrapin prefix-truncation emulation, guessed kex packets,
 * message order around EXT_INFO, long name-lists, bursts, and the session identifier across re-exchanges.
 */
import { kexAlgorithms } from '../../../impl/crypto/registry.js';
import { encodeMessage } from '../../../impl/messages/index.js';
import type { ClientConn } from '../client-conn.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import { channelDataLength, extInfoExtensions, rekeyAndWait } from './util.js';
import { framePlain } from '../raw-conn.js';
import type { Check } from '../types.js';

/**
 * A password-authenticated connection running `cat` on a session, and a chunk size of at most `max` bytes of which
 * `parts` fit the peer's window, in packets no larger than its maximum (RFC 4254 §5.2; lsh opens ~30 000 bytes).
 */
async function catSession(ctx: CheckContext, max: number, parts: number): Promise<{ c: ClientConn; ch: Awaited<ReturnType<ClientConn['openSession']>>; size: number }> {
  const c = await ctx.connect();
  await c.authenticate('password');
  const ch = await c.openSession();
  await c.exec(ch, 'cat');
  return { c, ch, size: Math.max(1, Math.min(max, ch.remoteMaxPacket || max, Math.floor((ch.remoteWindow || 32768) / parts))) };
}

/** Reads echoed CHANNEL_DATA until `want` bytes in all (`have` already counted), a CHANNEL_CLOSE, or `ms`; the new total. */
async function readEcho(c: ClientConn, have: number, want: number, ms = 8000): Promise<number> {
  let got = have;
  const deadline = Date.now() + ms;
  while (got < want && Date.now() < deadline) {
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_CHANNEL_DATA' || m.name === 'SSH_MSG_CHANNEL_CLOSE', deadline - Date.now());
    if (r.kind !== 'message') break;
    c.cursor = r.m.index + 1;
    if (r.m.name === 'SSH_MSG_CHANNEL_CLOSE') break;
    got += channelDataLength(r.m);
  }
  return got;
}

const STRICT_C = 'kex-strict-c-v00@openssh.com';
/** Kex methods whose client message is one string (ECDH shape, message 30): a guess we can fake. */
const ECDH_SHAPED = ['curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'curve25519-sha256@libssh.org'];

export const transportChecks: Check[] = [
  defineCheck({
    id: 'security.terrapin-prefix-truncation',
    title: 'An injected SSH_MSG_IGNORE plus a deleted first encrypted packet (Terrapin) does not go unnoticed',
    level: 'MUST', area: 'strict-kex', suites: ['security', 'transport'],
    requires: { cipher: ['chacha20-poly1305@openssh.com'] },
    spec: [
      { rfc: 'CVE-2023-48795', section: 'Terrapin', text: 'a man in the middle adds packets before NEWKEYS and deletes as many after it, so sequence numbers still match and the peers do not notice' },
      { rfc: 'OpenSSH PROTOCOL', section: '1.9 strict key exchange', text: 'During initial KEX, terminate the connection if any unexpected or out-of-sequence packet is received ... reset the packet sequence number to zero after NEWKEYS' },
    ],
  }, async (ctx) => {
    const c = await ctx.connect({ algorithms: { cipher: ['chacha20-poly1305@openssh.com'] } });
    // the "attacker's" packet: cleartext, never counted by our own sequence numbers
    c.sendBytes(framePlain(encodeMessage({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(4) })), 'injected IGNORE, not counted by our sender');
    const algs = await c.kex({ onClose: 'pass' });
    c.note(`negotiated ${algs.cipherC2S}, strict kex ${algs.strictKex}`);
    // delete our first encrypted packet: sealed (so our sequence number advances) but never put on the wire
    c.testing.corruptNext({ id: 2, truncate: 0 });
    c.send({ type: 'SSH_MSG_IGNORE', data: new Uint8Array(1) });
    c.act((e) => e.requestService('ssh-userauth'));
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_SERVICE_ACCEPT', 2000);
    if (r.kind === 'message') ctx.fail('the server accepted the injected packet and did not notice the deleted one: prefix truncation works against it');
  }),

  defineCheck({
    id: 'kex.wrong-guess-ignored',
    title: 'A wrongly guessed first kex packet (first_kex_packet_follows) is ignored and the exchange completes',
    level: 'MUST', area: 'kex', suites: ['transport'],
    spec: 'RFC 4253 §7.1: If the other party\'s guess was wrong, and this field was TRUE, the next packet MUST be silently ignored, and both sides MUST then act as determined by the negotiated key exchange method.',
  }, async (ctx) => {
    const server = ctx.target.kexInit;
    if (!server) return ctx.inconclusive('the server\'s KEXINIT is unknown');
    const ours = ECDH_SHAPED.find((k) => k !== server.kex[0] && server.kex.includes(k));
    if (!ours) return ctx.notApplicable('the server offers no ECDH-shaped method other than its first choice');
    ctx.note(`server prefers ${server.kex[0]}; we guess ${ours} and send a guessed packet that must be dropped`);
    const c = await ctx.connect({
      algorithms: { kex: [ours] },
      deviations: (t) => t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: [ours, STRICT_C], firstKexPacketFollows: true })),
    });
    c.sendRawMessage({ type: 'unknown', id: 30, body: Buffer.concat([Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 0x55)]) }, 'guessed kex packet (wrong guess)');
    await c.kex({ else: 'fail' });
    await c.service('ssh-userauth', { else: 'fail' });
  }),

  defineCheck({
    id: 'kex.right-guess-used',
    title: 'With a right guess (same first kex and host key algorithms), the guessed packet is used',
    level: 'MUST', area: 'kex', suites: ['transport'],
    spec: 'RFC 4253 §7.1: first_kex_packet_follows ... If the guess was right, the packet MUST be handled as the first key exchange packet.',
  }, async (ctx) => {
    const server = ctx.target.kexInit;
    if (!server) return ctx.inconclusive('the server\'s KEXINIT is unknown');
    const kex = server.kex[0]!;
    const hostKey = server.hostKey[0]!;
    const c0 = ECDH_SHAPED.includes(kex) || kex.startsWith('mlkem') || kex.startsWith('ecdh');
    if (!c0) return ctx.notApplicable(`the server's first kex method ${kex} is not one our client can guess`);
    let c: ClientConn;
    try {
      c = await ctx.connect({
        algorithms: { kex: [kex], hostKey: [hostKey] },
        deviations: (t) => t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: [kex, STRICT_C], serverHostKeyAlgorithms: [hostKey], firstKexPacketFollows: true })),
      });
    } catch (e) {
      return ctx.notApplicable(`our client cannot run ${kex}/${hostKey}: ${(e as Error).message}`);
    }
    await c.kex({ else: 'fail' });
    await c.service('ssh-userauth', { else: 'fail' });
  }),

  ...([
    { id: 'kex.long-name-list', names: 250, level: 'MUST' as const, what: '250 unknown names (about 7 KB)' },
    { id: 'kex.very-long-name-list', names: 1000, level: 'SHOULD' as const, what: '1000 unknown names (about 30 KB, still under 35000 bytes)' },
  ]).map((v) => defineCheck({
    id: v.id,
    title: `A KEXINIT whose kex name-list holds ${v.what} before a real method is processed`,
    level: v.level, area: 'kex', suites: ['transport', 'robustness'],
    spec: [
      'RFC 4253 §6.1: All implementations MUST be able to process packets with an uncompressed payload length of 32768 bytes or less and a total packet size of 35000 bytes or less',
      'RFC 4251 §5: name-list ... A string containing a comma-separated list of names (no limit on their number)',
    ],
  }, async (ctx) => {
    const junk = Array.from({ length: v.names }, (_, i) => `x${String(i).padStart(4, '0')}-unknown@ssh-harness.invalid`);
    // a method the target offers (lsh 2.1 has only DH with SHA-1): the quick curve25519 when it can
    const offered = ctx.target.kexInit?.kex ?? [];
    const real = ['curve25519-sha256', 'ecdh-sha2-nistp256', ...offered].find((n) => offered.length === 0 || (offered.includes(n) && kexAlgorithms.has(n))) ?? 'curve25519-sha256';
    const c = await ctx.connect({ algorithms: { kex: [real] }, deviations: (t) => t.setKexInitOverride((k) => ({ ...k, kexAlgorithms: [...junk, real, STRICT_C] })) });
    c.note(`kex name-list of ${junk.join(',').length + real.length + 1} bytes`);
    await c.kex({ else: 'fail' });
    await c.service('ssh-userauth', { else: 'fail' });
  })),

  defineCheck({
    id: 'bpp.ignore-burst',
    title: '200 SSH_MSG_IGNORE messages in a row are all ignored and the connection goes on',
    level: 'MUST', area: 'binary-packet', suites: ['transport', 'robustness'],
    spec: 'RFC 4253 §11.2: All implementations MUST understand (and ignore) this message at any time (after receiving the identification string).',
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    for (let i = 0; i < 200; i++) c.send({ type: 'SSH_MSG_IGNORE', data: Buffer.alloc(i % 64, i & 0xff) });
    if (!(await c.ping(5000))) ctx.fail('after 200 IGNORE messages an unknown message was not answered');
  }),

  defineCheck({
    id: 'ext-info.order',
    title: 'SSH_MSG_EXT_INFO, when sent, is the first message after the server\'s first NEWKEYS or just before USERAUTH_SUCCESS',
    level: 'MUST', area: 'ext-info', suites: ['transport'],
    requires: { auth: ['password'] },
    spec: 'RFC 8308 §2.4: If a server sends SSH_MSG_EXT_INFO, it MAY send it at zero, one, or both of the following opportunities: as the next packet following the server\'s first SSH_MSG_NEWKEYS; immediately preceding the server\'s SSH_MSG_USERAUTH_SUCCESS',
  }, async (ctx) => {
    const c = await ctx.connect({ extInfo: true });
    await c.authenticate('password');
    const msgs = c.rec.inbox.messages.filter((m) => m.name !== 'SSH_MSG_IGNORE' && m.name !== 'SSH_MSG_DEBUG');
    const ext = msgs.map((m, i) => ({ m, i })).filter((x) => x.m.name === 'SSH_MSG_EXT_INFO');
    if (ext.length === 0) return ctx.notApplicable('the server sent no SSH_MSG_EXT_INFO');
    for (const { i } of ext) {
      const before = msgs[i - 1]?.name;
      const after = msgs[i + 1]?.name;
      const firstNewKeys = msgs.findIndex((m) => m.name === 'SSH_MSG_NEWKEYS');
      if (!((before === 'SSH_MSG_NEWKEYS' && i - 1 === firstNewKeys) || after === 'SSH_MSG_USERAUTH_SUCCESS')) {
        ctx.fail(`SSH_MSG_EXT_INFO came after ${before ?? 'nothing'} and before ${after ?? 'nothing'}`);
      }
    }
  }),

  defineCheck({
    id: 'ext-info.server-sig-algs',
    title: 'The server sends SSH_MSG_EXT_INFO with server-sig-algs, a valid name-list naming rsa-sha2-256/512 when it takes RSA keys',
    level: 'SHOULD', area: 'ext-info', suites: ['transport'],
    spec: [
      'RFC 8332 §3.3: Servers that accept rsa-sha2-* signatures for client authentication SHOULD implement the extension negotiation mechanism defined in [RFC8308], including especially the "server-sig-algs" extension.',
      'RFC 8308 §3.1: server-sig-algs ... value: name-list public-key-algorithms-accepted',
    ],
  }, async (ctx) => {
    const c = await ctx.connect({ extInfo: true });
    await c.service('ssh-userauth');
    const ext = c.rec.inbox.messages.find((m) => m.name === 'SSH_MSG_EXT_INFO');
    if (!ext) return ctx.fail('no SSH_MSG_EXT_INFO although we offered ext-info-c');
    const exts = extInfoExtensions(ext);
    const sigAlgs = exts.get('server-sig-algs');
    if (sigAlgs === undefined) return ctx.fail(`SSH_MSG_EXT_INFO without server-sig-algs (extensions: ${[...exts.keys()].join(', ')})`);
    const names = sigAlgs.split(',');
    if (names.some((n) => !/^[\x21-\x2b\x2d-\x7e]{1,64}$/.test(n))) ctx.fail(`server-sig-algs is not a valid name-list: ${JSON.stringify(sigAlgs).slice(0, 200)}`);
    if (names.includes('ssh-rsa') && !names.some((n) => n.startsWith('rsa-sha2-'))) ctx.fail('server-sig-algs lists ssh-rsa (SHA-1) but neither rsa-sha2-256 nor rsa-sha2-512');
    c.note(`server-sig-algs: ${names.join(', ')}`);
  }),

  defineCheck({
    id: 'rekey.session-id-stable',
    title: 'After a re-exchange before authentication, publickey signatures still cover the first session identifier',
    level: 'MUST', area: 'rekey', suites: ['transport', 'auth'],
    requires: { auth: ['publickey'] },
    spec: 'RFC 4253 §7.2: The exchange hash H from the first key exchange is additionally used as the session identifier ... Once computed, the session identifier is not changed, even if keys are later re-exchanged.',
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    const sid = c.engine.sessionId!;
    const before = c.events.length;
    c.act((e) => e.rekey());
    const r = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_NEWKEYS' || m.name === 'SSH_MSG_UNIMPLEMENTED', 3000);
    if (r.kind !== 'message' || r.m.name !== 'SSH_MSG_NEWKEYS') return ctx.notApplicable('the server does not re-exchange keys before authentication (see rekey.before-auth)');
    c.cursor = r.m.index + 1;
    for (let i = 0; i < 50 && !c.events.slice(before).some((e) => e.type === 'kexDone'); i++) await new Promise((res) => setTimeout(res, 20));
    if (Buffer.compare(Buffer.from(sid), Buffer.from(c.engine.sessionId!)) !== 0) return ctx.inconclusive('our own session id changed');
    c.send(c.publicKeyRequest({ sessionId: sid }));
    await c.expectMessage('SSH_MSG_USERAUTH_SUCCESS', { because: 'a publickey signature over the first session id' });
  }),

  defineCheck({
    id: 'rekey.compression-fresh-context',
    title: 'With zlib compression on, channel data survives two re-exchanges: both sides start a fresh compression context at each NEWKEYS',
    level: 'MUST', area: 'rekey', suites: ['transport', 'connection'],
    requires: { auth: ['password'], compression: ['zlib@openssh.com', 'zlib'] },
    spec: [
      'RFC 4253 §6.2: The compression context is initialized after each key exchange, and is passed from one packet to the next, with only a partial flush being performed at the end of each packet.',
      { rfc: 'OpenSSH PROTOCOL', section: '1.1 zlib@openssh.com', text: 'compression is delayed until after authentication; the method is otherwise identical to "zlib"' },
    ],
  }, async (ctx) => {
    // our engine starts a fresh inflater at each NEWKEYS: a server that carries its deflate stream over a rekey
    // sends data we cannot decompress (and one that restarts its inflater fails on ours the other way). Each
    // round's echo is awaited before the re-exchange starts, so no data is in flight during it (that is
    // rekey.data-continues-across's subject, not this check's).
    const { c, ch, size } = await catSession(ctx, 2048, 12);
    const chunk = Buffer.from('compressible text '.repeat(Math.ceil(size / 18)).slice(0, size));
    let got = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) c.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: ch.remote, data: chunk });
      const want = (round + 1) * 3 * size;
      got = await readEcho(c, got, want);
      if (got < want) {
        return ctx.fail(`${round === 0 ? 'before any re-exchange' : `after re-exchange ${round}`}: echoed ${got} of ${want} bytes with compression ${c.engine.negotiated?.compressionS2C ?? '?'}${c.closed ? ` (${c.describeClosed()})` : ''}`);
      }
      if (round < 2) await rekeyAndWait(ctx, c, round + 1, 8000);
    }
    c.note(`compression ${c.engine.negotiated?.compressionS2C ?? '?'}; ${got} bytes echoed across two re-exchanges`);
  }),

  defineCheck({
    id: 'rekey.data-continues-across',
    title: 'Channel data keeps flowing through a re-exchange started in the middle of a transfer',
    level: 'MUST', area: 'rekey', suites: ['transport', 'connection'],
    requires: { auth: ['password'] },
    spec: 'RFC 4253 §9: Key re-exchange ... Either party MAY initiate the re-exchange; RFC 4253 §7.1: messages sent during a re-exchange are held until NEWKEYS, then sent with the new keys',
  }, async (ctx) => {
    const { c, ch, size } = await catSession(ctx, 4096, 8);
    const chunk = Buffer.alloc(size, 0x61);
    const total = 8 * size;
    for (let i = 0; i < 8; i++) {
      c.send({ type: 'SSH_MSG_CHANNEL_DATA', recipientChannel: ch.remote, data: chunk });
      if (i === 3) c.act((e) => e.rekey());
    }
    c.send({ type: 'SSH_MSG_CHANNEL_EOF', recipientChannel: ch.remote });
    const got = await readEcho(c, 0, total);
    if (got !== total) ctx.fail(`echoed ${got} of ${total} bytes across the re-exchange`);
  }),
];
