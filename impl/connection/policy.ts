/**
 * The server's decisions, after paramiko's `ServerInterface`: authentication (impl/auth) plus
 * channels, channel requests and global requests. Every check is optional except `allowedAuths`; a missing
 * check denies, except that 'session' channels are accepted when `checkChannelRequest` is absent.
 * Checks may return Promises; replies still leave in request order.
 */
import type { MaybePromise, ServerAuthPolicy } from '../auth/types.js';
import type { OpenFailure } from './connection.js';
import type { Channel } from './channel.js';

/** What the peer said about a channel it opened (RFC 4254 §5.1, §7.2). */
export interface ChannelOpenInfo {
  readonly kind: string;
  /** direct-tcpip: where to connect; forwarded-tcpip: the address that was connected. */
  readonly destination?: { readonly host: string; readonly port: number };
  readonly originator?: { readonly host: string; readonly port: number };
}

/** RFC 4254 §6.2 pty-req. */
export interface PtyInfo {
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
  readonly widthPx: number;
  readonly heightPx: number;
  /** Encoded terminal modes, RFC 4254 §8. */
  readonly modes: Uint8Array;
}

export interface WindowSize {
  readonly cols: number;
  readonly rows: number;
  readonly widthPx: number;
  readonly heightPx: number;
}

export interface ServerPolicy extends ServerAuthPolicy {
  /** A channel the client opens: `true` to accept, or an OpenFailure code (1–4). */
  checkChannelRequest?(kind: string, id: number, info: ChannelOpenInfo): MaybePromise<true | OpenFailure>;
  /** Any global request other than tcpip-forward/cancel: false → REQUEST_FAILURE; bytes → REQUEST_SUCCESS with that data. */
  checkGlobalRequest?(kind: string, data: Uint8Array): MaybePromise<boolean | Uint8Array>;
  /** RFC 4254 §7.1 tcpip-forward: the bound port (the requested one, or the one chosen for port 0), or false. */
  checkPortForwardRequest?(address: string, port: number): MaybePromise<number | false>;
  /** false: no such forward (REQUEST_FAILURE, RFC 4254 §7.1); anything else: cancelled. */
  cancelPortForwardRequest?(address: string, port: number): void | boolean;
  checkChannelPtyRequest?(channel: Channel, pty: PtyInfo): MaybePromise<boolean>;
  checkChannelShellRequest?(channel: Channel): MaybePromise<boolean>;
  checkChannelExecRequest?(channel: Channel, command: string): MaybePromise<boolean>;
  checkChannelSubsystemRequest?(channel: Channel, name: string): MaybePromise<boolean>;
  checkChannelEnvRequest?(channel: Channel, name: string, value: string): MaybePromise<boolean>;
  checkChannelWindowChangeRequest?(channel: Channel, size: WindowSize): MaybePromise<boolean>;
  checkChannelSignalRequest?(channel: Channel, signal: string): MaybePromise<boolean>;
}
