/**
 * TCP/IP port forwarding (RFC 4254 §7): tcpip-forward / cancel-tcpip-forward global requests and the
 * forwarded-tcpip channels they lead to, and the rule that nobody accepts a forwarded-tcpip channel it never asked
 * for. A server that does not allow forwarding to the test account makes the checks that need a forward not
 * applicable; the refusal checks apply to every server.
 */
import net from 'node:net';
import { decodeMessage } from '../../../impl/messages/index.js';
import type { ClientConn } from '../client-conn.js';
import { TIME_SCALE } from '../expect.js';
import type { CheckContext } from '../context.js';
import { defineCheck } from '../define.js';
import type { Check } from '../types.js';
import { PRIVATE_REASON } from './naming.js';
import { alive, sshString, u32, wire } from './util.js';

const FORWARD_71 = 'RFC 4254 §7.1: If a client passes 0 as port number to bind and has \'want reply\' as TRUE, then the server allocates the next available unprivileged port number and replies with the following message; otherwise, there is no response-specific data. byte SSH_MSG_REQUEST_SUCCESS uint32 port that was bound on the server';
const FORWARDED_72 = 'RFC 4254 §7.2: When a connection comes to a port for which remote forwarding has been requested, a channel is opened to forward the port to the other side. byte SSH_MSG_CHANNEL_OPEN string "forwarded-tcpip" ... string address that was connected uint32 port that was connected string originator IP address uint32 originator port';
const REJECT_72 = 'RFC 4254 §7.2: Implementations MUST reject these messages unless they have previously requested a remote TCP/IP port forwarding with the given port number.';

async function authed(ctx: CheckContext): Promise<ClientConn> {
  const c = await ctx.connect();
  await c.authenticate('any');
  return c;
}

/** tcpip-forward with want reply; the reply, or not-applicable when the server refuses forwarding. */
async function forward(ctx: CheckContext, c: ClientConn, address: string, port: number): Promise<Uint8Array> {
  c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'tcpip-forward', wantReply: true, data: wire(sshString(address), u32(port)) });
  const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE', 'SSH_MSG_UNIMPLEMENTED'], { within: Math.round(5000 * TIME_SCALE), because: 'the reply to tcpip-forward' });
  if (r.name === 'SSH_MSG_UNIMPLEMENTED') return ctx.notApplicable('the server does not implement global requests (it answered tcpip-forward with SSH_MSG_UNIMPLEMENTED)');
  if (r.name === 'SSH_MSG_REQUEST_FAILURE') return ctx.notApplicable(`the server does not forward ${address}:${port} for this account (REQUEST_FAILURE)`);
  const m = decodeMessage(r.payload);
  return m.type === 'SSH_MSG_REQUEST_SUCCESS' ? Uint8Array.from(m.data) : new Uint8Array(0);
}

/** A port that is free on this machine now (the server's side may still have it taken: then not applicable). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

/** Connects to the forwarded port on the server's host; false when that port cannot be reached from here. */
async function dial(host: string, port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); resolve(undefined); }, 2000);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', () => { clearTimeout(timer); resolve(undefined); });
  });
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

export const forwardingChecks: Check[] = [
  defineCheck({
    id: 'forward.tcpip-forward.port-zero',
    title: 'tcpip-forward for port 0 with want reply is answered with REQUEST_SUCCESS carrying the allocated (unprivileged) port',
    level: 'MUST', area: 'connection', suites: ['connection'],
    spec: FORWARD_71,
  }, async (ctx) => {
    const c = await authed(ctx);
    const data = await forward(ctx, c, '127.0.0.1', 0);
    if (data.length !== 4) return ctx.fail(`REQUEST_SUCCESS carries ${data.length} bytes of data, not the uint32 port`);
    const port = Buffer.from(data).readUInt32BE(0);
    c.note(`the server bound port ${port}`);
    if (port < 1024 || port > 65535) ctx.fail(`the allocated port ${port} is not an unprivileged port (1024–65535)`);
  }),

  defineCheck({
    id: 'forward.tcpip-forward.fixed-port-no-data',
    title: 'tcpip-forward for a given port is answered with REQUEST_SUCCESS without response-specific data',
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: FORWARD_71,
  }, async (ctx) => {
    const c = await authed(ctx);
    const data = await forward(ctx, c, '127.0.0.1', await freePort());
    if (data.length !== 0) ctx.fail(`REQUEST_SUCCESS for a fixed port carries ${data.length} bytes of data (${Buffer.from(data).toString('hex')})`);
  }),

  defineCheck({
    id: 'forward.cancel-tcpip-forward',
    title: 'cancel-tcpip-forward for a forward we set up is answered with REQUEST_SUCCESS',
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: 'RFC 4254 §7.1: A port forwarding can be canceled with the following message. ... byte SSH_MSG_GLOBAL_REQUEST string "cancel-tcpip-forward" boolean want reply string address_to_bind uint32 port number to bind',
  }, async (ctx) => {
    const c = await authed(ctx);
    const port = await freePort();
    await forward(ctx, c, '127.0.0.1', port);
    c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'cancel-tcpip-forward', wantReply: true, data: wire(sshString('127.0.0.1'), u32(port)) });
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE'], { within: 5000 });
    if (r.name !== 'SSH_MSG_REQUEST_SUCCESS') ctx.fail('cancelling an existing forward was refused');
  }),

  defineCheck({
    id: 'forward.cancel-unknown-refused',
    title: 'cancel-tcpip-forward for a forward that was never set up is answered with REQUEST_FAILURE',
    level: 'SHOULD', area: 'connection', suites: ['connection'],
    spec: ['RFC 4254 §7.1: A port forwarding can be canceled with the following message.', 'RFC 4254 §4: If the recipient does not recognize or support the request, it simply responds with SSH_MSG_REQUEST_FAILURE.'],
  }, async (ctx) => {
    const c = await authed(ctx);
    c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'cancel-tcpip-forward', wantReply: true, data: wire(sshString('127.0.0.1'), u32(await freePort())) });
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE', 'SSH_MSG_UNIMPLEMENTED'], { within: 5000 });
    if (r.name === 'SSH_MSG_UNIMPLEMENTED') return ctx.notApplicable('the server does not implement global requests (SSH_MSG_UNIMPLEMENTED)');
    if (r.name !== 'SSH_MSG_REQUEST_FAILURE') ctx.fail('cancelling a forward that does not exist succeeded');
  }),

  defineCheck({
    id: 'forward.privileged-port-refused',
    title: 'tcpip-forward for a privileged port (1023) by the unprivileged test account is refused',
    level: 'SHOULD', area: 'connection', suites: ['connection', 'security'],
    spec: 'RFC 4254 §7.1: Implementations should only allow forwarding privileged ports if the user has been authenticated as a privileged user.',
  }, async (ctx) => {
    const c = await authed(ctx);
    c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'tcpip-forward', wantReply: true, data: wire(sshString('127.0.0.1'), u32(1023)) });
    const r = await c.expectMessage(['SSH_MSG_REQUEST_SUCCESS', 'SSH_MSG_REQUEST_FAILURE', 'SSH_MSG_UNIMPLEMENTED'], { within: 5000 });
    if (r.name === 'SSH_MSG_REQUEST_SUCCESS') ctx.fail('the server bound privileged port 1023 for an unprivileged user');
  }),

  defineCheck({
    id: 'forward.forwarded-tcpip-channel',
    title: 'A connection to the forwarded port opens a forwarded-tcpip channel naming the address and port we asked for; data flows through it',
    level: 'MUST', area: 'connection', suites: ['connection'],
    timeoutMs: 20_000,
    spec: [FORWARDED_72, FORWARD_71],
  }, async (ctx) => {
    const c = await authed(ctx);
    const data = await forward(ctx, c, '127.0.0.1', 0);
    if (data.length !== 4) return ctx.inconclusive('no bound port in REQUEST_SUCCESS');
    const port = Buffer.from(data).readUInt32BE(0);
    if (!isLoopback(ctx.target.host)) return ctx.notApplicable(`the forward listens on the server's loopback, which ${ctx.target.host} does not share with the harness`);
    const sock = await dial(ctx.target.host, port);
    if (!sock) return ctx.notApplicable(`port ${port} on ${ctx.target.host} cannot be reached from the harness`);
    ctx.onCleanup(() => sock.destroy());
    sock.on('error', () => undefined);
    const open = await c.expectMessage('SSH_MSG_CHANNEL_OPEN', { where: { channelType: 'forwarded-tcpip' }, within: 5000 });
    const m = decodeMessage(open.payload);
    if (m.type !== 'SSH_MSG_CHANNEL_OPEN') return ctx.inconclusive('undecodable CHANNEL_OPEN');
    const d = Buffer.from(m.data);
    const alen = d.readUInt32BE(0);
    const address = d.subarray(4, 4 + alen).toString('latin1');
    const connectedPort = d.readUInt32BE(4 + alen);
    c.note(`forwarded-tcpip: address ${address}, port ${connectedPort}`);
    if (address !== '127.0.0.1') return ctx.fail(`the channel names address ${JSON.stringify(address)}, not the 127.0.0.1 we asked to forward`);
    if (connectedPort !== port) return ctx.fail(`the channel names port ${connectedPort}, not the bound port ${port}`);
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION', recipientChannel: m.senderChannel, senderChannel: 50, initialWindowSize: 65536, maximumPacketSize: 32768, data: new Uint8Array(0) });
    sock.write('through the forward\n');
    const got = await c.expectMessage('SSH_MSG_CHANNEL_DATA', { where: { recipientChannel: 50 }, within: 5000, because: 'the bytes written to the forwarded port' });
    if (!Buffer.from(got.payload).includes(Buffer.from('through the forward'))) ctx.fail('the forwarded bytes did not arrive intact');
  }),

  defineCheck({
    id: 'forward.forwarded-open-refused-private-reason',
    title: 'Our refusal of the server\'s forwarded-tcpip channel with a private-use reason code (0xFE000001) is taken in stride',
    level: 'MUST', area: 'connection', suites: ['connection', 'robustness'],
    timeoutMs: 20_000,
    spec: ['RFC 4250 §4.3.4: The \'reason code\' values in the range of 0xFE000000 through 0xFFFFFFFF are reserved for PRIVATE USE (a peer must expect codes it does not know)', 'RFC 4254 §5.1: The \'reason code\' values in the range of 0xFE000000 through 0xFFFFFFFF are reserved for PRIVATE USE.'],
  }, async (ctx) => {
    const c = await authed(ctx);
    const data = await forward(ctx, c, '127.0.0.1', 0);
    if (data.length !== 4) return ctx.inconclusive('no bound port in REQUEST_SUCCESS');
    if (!isLoopback(ctx.target.host)) return ctx.notApplicable(`the forward listens on the server's loopback, which ${ctx.target.host} does not share with the harness`);
    const sock = await dial(ctx.target.host, Buffer.from(data).readUInt32BE(0));
    if (!sock) return ctx.notApplicable('the forwarded port cannot be reached from the harness');
    ctx.onCleanup(() => sock.destroy());
    sock.on('error', () => undefined);
    const open = await c.expectMessage('SSH_MSG_CHANNEL_OPEN', { where: { channelType: 'forwarded-tcpip' }, within: 5000 });
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN_FAILURE', recipientChannel: Number(open.fields?.['senderChannel']), reason: PRIVATE_REASON, description: 'private-use reason from ssh-harness', language: '' });
    if (!(await alive(c))) ctx.fail('the server stopped answering after a private-use reason code');
  }),

  defineCheck({
    id: 'forward.forwarded-tcpip-unrequested-refused',
    title: 'A forwarded-tcpip channel opened by us (for a forward the server never requested) is refused',
    level: 'MUST', area: 'connection', suites: ['connection', 'security'],
    spec: REJECT_72,
  }, async (ctx) => {
    const c = await authed(ctx);
    c.send({ type: 'SSH_MSG_CHANNEL_OPEN', channelType: 'forwarded-tcpip', senderChannel: 51, initialWindowSize: 65536, maximumPacketSize: 32768, data: wire(sshString('127.0.0.1'), u32(2222), sshString('127.0.0.1'), u32(40001)) });
    const r = await c.expectMessage(['SSH_MSG_CHANNEL_OPEN_FAILURE', 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION'], { where: { recipientChannel: 51 } });
    if (r.name === 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION') ctx.fail('the server accepted a forwarded-tcpip channel for a forward it never requested');
  }),

  defineCheck({
    id: 'forward.tcpip-forward-before-auth',
    title: 'tcpip-forward before authentication is not granted: the server disconnects',
    level: 'MUST', area: 'connection', suites: ['connection', 'security'],
    spec: ['RFC 4252 §6: Message numbers of 80 and higher are reserved for protocols running after this authentication protocol, so receiving one of them before authentication is complete is an error, to which the server MUST respond by disconnecting', FORWARD_71],
  }, async (ctx) => {
    const c = await ctx.connect();
    await c.service('ssh-userauth');
    c.send({ type: 'SSH_MSG_GLOBAL_REQUEST', name: 'tcpip-forward', wantReply: true, data: wire(sshString('127.0.0.1'), u32(0)) });
    const ok = await c.rec.inbox.wait(c.cursor, (m) => m.name === 'SSH_MSG_REQUEST_SUCCESS', 800);
    if (ok.kind === 'message') return ctx.fail('the server granted tcpip-forward before authentication');
    await c.expectReject({ because: 'a global request before authentication', onSilence: 'fail' });
  }),
];
