/** Request-specific data of global requests, channel opens and channel requests (RFC 4254 and OpenSSH PROTOCOL). */
import { defineStruct } from './define-message.js';
import { ascii, boolean, repeat, string, uint32, utf8 } from './fields.js';
import type { WireLimits } from '../wire/index.js';
import { definePayloads } from './payload-union.js';

const forward = { address: ascii, port: uint32 } as const; // address to bind, port to bind

export const globalRequestData = definePayloads('RFC 4254 §4', {
  'tcpip-forward': { spec: 'RFC 4254 §7.1', fields: forward },
  'cancel-tcpip-forward': { spec: 'RFC 4254 §7.1', fields: forward },
  // OpenSSH PROTOCOL, "keepalive messages" / "no-more-sessions@openssh.com" / "hostkeys-00@openssh.com"
  'keepalive@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: {} },
  'no-more-sessions@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: {} },
  'hostkeys-00@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: { hostKeys: repeat(string) } },
  'hostkeys-prove-00@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: { hostKeys: repeat(string) } },
});
export type GlobalRequestData = ReturnType<typeof globalRequestData.decode>;
export type GlobalRequestDataInput = Parameters<typeof globalRequestData.encode>[0];
/** `name` is the SSH_MSG_GLOBAL_REQUEST request name. */
export const decodeGlobalRequestData = (name: string, data: Uint8Array, limits?: WireLimits): GlobalRequestData =>
  globalRequestData.decode(name, data, limits);
export const encodeGlobalRequestData = (v: GlobalRequestDataInput): Uint8Array => globalRequestData.encode(v);

/** SSH_MSG_REQUEST_SUCCESS data for a 'tcpip-forward' that asked for port 0 (RFC 4254 §7.1). */
export const TcpipForwardReply = defineStruct({ name: 'tcpip-forward reply', spec: 'RFC 4254 §7.1', fields: { port: uint32 } });

const tcpip = { host: ascii, port: uint32, originatorAddress: ascii, originatorPort: uint32 } as const;

export const channelOpenData = definePayloads('RFC 4254 §5.1', {
  session: { spec: 'RFC 4254 §6.1', fields: {} },
  x11: { spec: 'RFC 4254 §6.3.2', fields: { originatorAddress: ascii, originatorPort: uint32 } },
  'forwarded-tcpip': { spec: 'RFC 4254 §7.2', fields: tcpip }, // host/port: the address that was connected
  'direct-tcpip': { spec: 'RFC 4254 §7.2', fields: tcpip },    // host/port: where to connect
});
export type ChannelOpenData = ReturnType<typeof channelOpenData.decode>;
export type ChannelOpenDataInput = Parameters<typeof channelOpenData.encode>[0];
/** `channelType` is the SSH_MSG_CHANNEL_OPEN channel type. */
export const decodeChannelOpenData = (channelType: string, data: Uint8Array, limits?: WireLimits): ChannelOpenData =>
  channelOpenData.decode(channelType, data, limits);
export const encodeChannelOpenData = (v: ChannelOpenDataInput): Uint8Array => channelOpenData.encode(v);

const windowSize = { cols: uint32, rows: uint32, widthPx: uint32, heightPx: uint32 } as const;

export const channelRequestData = definePayloads('RFC 4254 §6', {
  // modes: RFC 4254 §8 encoded terminal modes, kept as bytes
  'pty-req': { spec: 'RFC 4254 §6.2', fields: { term: ascii, ...windowSize, modes: string } },
  'x11-req': { spec: 'RFC 4254 §6.3.1', fields: { singleConnection: boolean, authProtocol: ascii, authCookie: ascii, screen: uint32 } },
  env: { spec: 'RFC 4254 §6.4', fields: { name: ascii, value: utf8 } },
  shell: { spec: 'RFC 4254 §6.5', fields: {} },
  exec: { spec: 'RFC 4254 §6.5', fields: { command: utf8 } },
  subsystem: { spec: 'RFC 4254 §6.5', fields: { name: ascii } },
  'window-change': { spec: 'RFC 4254 §6.7', fields: windowSize },
  'xon-xoff': { spec: 'RFC 4254 §6.8', fields: { clientCanDo: boolean } },
  signal: { spec: 'RFC 4254 §6.9', fields: { signal: ascii } }, // name without the "SIG" prefix
  'exit-status': { spec: 'RFC 4254 §6.10', fields: { status: uint32 } },
  'exit-signal': { spec: 'RFC 4254 §6.10', fields: { signal: ascii, coreDumped: boolean, errorMessage: utf8, language: ascii } },
  'eow@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: {} },
  'keepalive@openssh.com': { spec: 'OpenSSH PROTOCOL', fields: {} },
  'auth-agent-req@openssh.com': { spec: 'OpenSSH PROTOCOL.agent', fields: {} },
});
export type ChannelRequestData = ReturnType<typeof channelRequestData.decode>;
export type ChannelRequestDataInput = Parameters<typeof channelRequestData.encode>[0];
/** `requestType` is the SSH_MSG_CHANNEL_REQUEST request type. */
export const decodeChannelRequestData = (requestType: string, data: Uint8Array, limits?: WireLimits): ChannelRequestData =>
  channelRequestData.decode(requestType, data, limits);
export const encodeChannelRequestData = (v: ChannelRequestDataInput): Uint8Array => channelRequestData.encode(v);
