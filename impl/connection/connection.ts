/**
 * ssh-connection (RFC 4254), sans-I/O: channels with flow-control windows, channel and global requests.
 * Payloads go in (handlePayload), payloads (through the host) and events come out; the owner of the
 * channels (the Transport's Channel streams, or a test) drives it with commands.
 *
 * Invariants kept here:
 * - we never send more channel data than the peer's window allows, in pieces ≤ its maximum packet (RFC 4254 §5.2);
 * - the peer may not send past the window we advertised; the window re-opens only as the consumer calls
 *   `consume()`, so what we buffer per channel is bounded by the initial window;
 * - replies to requests go out in the order the requests arrived (RFC 4254 §4, §5.4);
 * - messages for unknown, unconfirmed or closed channel numbers are protocol errors.
 */
import { ChannelError, LimitError, ProtocolError, SSHError } from '../errors.js';
import { decodeMessage, encodeMessage, type Message } from '../messages/index.js';

/** SSH_MSG_CHANNEL_OPEN_FAILURE reason codes, RFC 4254 §5.1. */
export const OpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;
export type OpenFailure = (typeof OpenFailure)[keyof typeof OpenFailure];

/** RFC 4254 §5.2: SSH_EXTENDED_DATA_STDERR. */
export const EXTENDED_DATA_STDERR = 1;

const MAX_UINT32 = 0xffff_ffff;

/**
 * SSH_MSG_CHANNEL_DATA / SSH_MSG_CHANNEL_EXTENDED_DATA (RFC 4254 §5.2), the hot path: one allocation that is
 * fully overwritten (no zero-fill) and one copy of the data. Byte-identical to encodeMessage (tested).
 */
export function channelDataPayload(recipient: number, data: Uint8Array, extended?: number): Uint8Array {
  const head = extended === undefined ? 9 : 13;
  const out = Buffer.allocUnsafe(head + data.length);
  writeChannelDataHeader(out, recipient, data.length, extended);
  out.set(data, head);
  return out;
}

/** The header alone (message number, recipient, [type,] data length): what precedes the data on the wire. */
export function channelDataHeader(recipient: number, length: number, extended?: number): Uint8Array {
  const out = Buffer.allocUnsafe(extended === undefined ? 9 : 13);
  writeChannelDataHeader(out, recipient, length, extended);
  return out;
}

function writeChannelDataHeader(out: Buffer, recipient: number, length: number, extended: number | undefined): void {
  const head = extended === undefined ? 9 : 13;
  out[0] = extended === undefined ? 94 : 95;
  out.writeUInt32BE(recipient, 1);
  if (extended !== undefined) out.writeUInt32BE(extended, 5);
  out.writeUInt32BE(length, head - 4);
}

export interface ConnectionOptions {
  /** Receive window advertised per channel (bytes). Default 2 MiB. */
  readonly initialWindow?: number;
  /** Largest data field we accept in one CHANNEL_DATA/EXTENDED_DATA. Default 32 KiB. */
  readonly maxPacket?: number;
  /** Channels (in any state) at once; further opens from the peer get RESOURCE_SHORTAGE. Default 1024. */
  readonly maxChannels?: number;
  /** Unanswered requests (global, or per channel) we hold for the application before it is a LimitError. Default 256. */
  readonly maxPendingRequests?: number;
}

export type ConnectionEvent =
  /** The peer opened a channel: call acceptOpen(id) or rejectOpen(id, reason). */
  | { readonly type: 'channelOpen'; readonly id: number; readonly channelType: string; readonly data: Uint8Array }
  | { readonly type: 'openConfirmed'; readonly id: number; readonly data: Uint8Array }
  | { readonly type: 'openFailed'; readonly id: number; readonly reason: number; readonly description: string }
  /** Channel data; `extended` is the data type code for SSH_MSG_CHANNEL_EXTENDED_DATA (1 = stderr). */
  | { readonly type: 'data'; readonly id: number; readonly data: Uint8Array; readonly extended?: number }
  /** The peer's window grew: writes that were short can continue. */
  | { readonly type: 'windowAvailable'; readonly id: number }
  | { readonly type: 'eof'; readonly id: number }
  /** The peer sent CLOSE (we answered if we had not closed yet). `freed` once both sides closed; always true here. */
  | { readonly type: 'closed'; readonly id: number }
  /** A channel request; when wantReply, answer with replyRequest(id, token, ok) (any order; sent in order). */
  | { readonly type: 'request'; readonly id: number; readonly token: number; readonly requestType: string; readonly wantReply: boolean; readonly data: Uint8Array }
  | { readonly type: 'requestReply'; readonly id: number; readonly requestType: string; readonly ok: boolean }
  | { readonly type: 'globalRequest'; readonly token: number; readonly name: string; readonly wantReply: boolean; readonly data: Uint8Array }
  | { readonly type: 'globalReply'; readonly name: string; readonly ok: boolean; readonly data: Uint8Array };

type ChannelPhase = 'opening' | 'pendingAccept' | 'open';

interface ChannelState {
  readonly localId: number;
  readonly channelType: string;
  phase: ChannelPhase;
  remoteId: number;
  /** Bytes the peer may still send us. */
  localWindow: number;
  /** Bytes delivered to the consumer and not yet given back with WINDOW_ADJUST. */
  consumed: number;
  remoteWindow: number;
  remoteMaxPacket: number;
  sentEof: boolean;
  recvEof: boolean;
  sentClose: boolean;
  /** Our want_reply requests, oldest first. */
  readonly awaitingReply: string[];
  /** The peer's want_reply requests, in arrival order: undefined until the application decides. */
  readonly replies: ReplyQueue;
}

/** Replies that must leave in arrival order even when the application decides out of order. */
class ReplyQueue {
  private readonly slots: ({ ok: boolean; data?: Uint8Array } | undefined)[] = [];
  private base = 0;
  get size(): number { return this.slots.length; }
  add(): number { this.slots.push(undefined); return this.base + this.slots.length - 1; }
  /** Records a decision; returns the decisions now ready to send, in order. */
  settle(token: number, ok: boolean, data?: Uint8Array): { ok: boolean; data?: Uint8Array }[] {
    const i = token - this.base;
    if (i < 0 || i >= this.slots.length || this.slots[i] !== undefined) throw new SSHError('USAGE', `no unanswered request with token ${token}`);
    this.slots[i] = { ok, data };
    const ready: { ok: boolean; data?: Uint8Array }[] = [];
    while (this.slots.length > 0 && this.slots[0] !== undefined) { ready.push(this.slots.shift()!); this.base++; }
    return ready;
  }
}

/** Closed channels whose late replies are remembered (noteRepliesAfterClose). */
const MAX_CLOSED_WITH_REPLIES = 64;

export class Connection {
  readonly initialWindow: number;
  readonly maxPacket: number;
  readonly maxChannels: number;
  private readonly maxPending: number;
  private readonly channels = new Map<number, ChannelState>();
  private nextId = 0;
  /** Local number → replies still owed on a channel the peer closed (noteRepliesAfterClose). */
  private readonly repliesAfterClose = new Map<number, number>();
  private readonly events: ConnectionEvent[] = [];
  private eventHead = 0;
  private readonly globalAwaitingReply: string[] = [];
  private readonly globalReplies = new ReplyQueue();
  private error: SSHError | undefined;

  constructor(private readonly host: { sendPayload(payload: Uint8Array): void; sendPayloadParts?(head: Uint8Array, body: Uint8Array): void }, options: ConnectionOptions = {}) {
    this.initialWindow = options.initialWindow ?? 2 * 1024 * 1024;
    this.maxPacket = options.maxPacket ?? 32 * 1024;
    this.maxChannels = options.maxChannels ?? 1024;
    this.maxPending = options.maxPendingRequests ?? 256;
    if (!(this.initialWindow >= 1 && this.initialWindow <= MAX_UINT32)) throw new RangeError('initialWindow must be within 1..2^32-1');
    if (!(this.maxPacket >= 1 && this.maxPacket <= MAX_UINT32)) throw new RangeError('maxPacket must be within 1..2^32-1');
  }

  get channelCount(): number { return this.channels.size; }

  pollEvent(): ConnectionEvent | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) { this.events.length = 0; this.eventHead = 0; }
      return undefined;
    }
    const e = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as ConnectionEvent;
    return e;
  }

  // ───────────────────────────── inbound ─────────────────────────────

  /**
   * One connection-protocol payload (numbers 80–127). Throws an SSHError when the connection must end
   * (the error sticks). Returns false for a number this layer does not know (answer SSH_MSG_UNIMPLEMENTED).
   */
  handlePayload(payload: Uint8Array): boolean {
    if (this.error) throw this.error;
    const id = payload[0];
    if (id === undefined || id < 80 || id > 100 || (id > 82 && id < 90)) return false;
    try {
      this.onMessage(decodeMessage(payload));
    } catch (e) {
      this.error = e instanceof SSHError ? e : new ProtocolError(String(e));
      throw this.error;
    }
    return true;
  }

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'SSH_MSG_CHANNEL_DATA': {
        const c = this.live(m.recipientChannel, m.type);
        return this.onData(c, m.data, undefined);
      }
      case 'SSH_MSG_CHANNEL_EXTENDED_DATA': {
        const c = this.live(m.recipientChannel, m.type);
        return this.onData(c, m.data, m.dataTypeCode);
      }
      case 'SSH_MSG_CHANNEL_WINDOW_ADJUST': {
        const c = this.live(m.recipientChannel, m.type);
        // RFC 4254 §5.2: the window may grow to at most 2^32 - 1 bytes.
        if (c.remoteWindow + m.bytesToAdd > MAX_UINT32) throw new ProtocolError(`channel ${c.localId}: window adjust overflows 2^32-1`, [], m.type);
        const wasEmpty = c.remoteWindow === 0;
        c.remoteWindow += m.bytesToAdd;
        if (!c.sentClose && (wasEmpty || m.bytesToAdd > 0)) this.events.push({ type: 'windowAvailable', id: c.localId });
        return;
      }
      case 'SSH_MSG_CHANNEL_EOF': {
        const c = this.live(m.recipientChannel, m.type);
        if (c.recvEof) throw new ProtocolError(`channel ${c.localId}: second SSH_MSG_CHANNEL_EOF`, [], m.type);
        c.recvEof = true;
        if (!c.sentClose) this.events.push({ type: 'eof', id: c.localId });
        return;
      }
      case 'SSH_MSG_CHANNEL_CLOSE': {
        const c = this.live(m.recipientChannel, m.type);
        // RFC 4254 §5.3: answer CLOSE with CLOSE unless we already sent one; then the number is free.
        if (!c.sentClose) this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remoteId }));
        this.channels.delete(c.localId);
        this.noteRepliesAfterClose(c);
        this.events.push({ type: 'closed', id: c.localId });
        return;
      }
      case 'SSH_MSG_CHANNEL_REQUEST': {
        const c = this.live(m.recipientChannel, m.type);
        if (c.sentClose) return; // closing: nobody will act on it, and no reply is owed after CLOSE
        let token = -1;
        if (m.wantReply) {
          if (c.replies.size >= this.maxPending) throw new LimitError(`channel ${c.localId}: more than ${this.maxPending} unanswered channel requests`);
          token = c.replies.add();
        }
        this.events.push({ type: 'request', id: c.localId, token, requestType: m.requestType, wantReply: m.wantReply, data: m.data });
        return;
      }
      case 'SSH_MSG_CHANNEL_SUCCESS':
      case 'SSH_MSG_CHANNEL_FAILURE': {
        if (this.lateReply(m.recipientChannel)) return;
        const c = this.live(m.recipientChannel, m.type);
        const requestType = c.awaitingReply.shift();
        if (requestType === undefined) throw new ProtocolError(`channel ${c.localId}: ${m.type} without a pending request`, [], m.type);
        if (!c.sentClose) this.events.push({ type: 'requestReply', id: c.localId, requestType, ok: m.type === 'SSH_MSG_CHANNEL_SUCCESS' });
        return;
      }
      case 'SSH_MSG_CHANNEL_OPEN':
        return this.onOpen(m);
      case 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION': {
        const c = this.channels.get(m.recipientChannel);
        if (!c || c.phase !== 'opening') throw new ProtocolError(`SSH_MSG_CHANNEL_OPEN_CONFIRMATION for channel ${m.recipientChannel}, which we are not opening`, [], m.type);
        if (m.maximumPacketSize === 0) throw new ProtocolError(`channel ${c.localId}: maximum packet size 0`, [], m.type);
        c.phase = 'open';
        c.remoteId = m.senderChannel;
        c.remoteWindow = m.initialWindowSize;
        c.remoteMaxPacket = m.maximumPacketSize;
        this.events.push({ type: 'openConfirmed', id: c.localId, data: m.data });
        // close() during 'opening' is deferred until the peer's number is known.
        if (c.sentClose) this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remoteId }));
        return;
      }
      case 'SSH_MSG_CHANNEL_OPEN_FAILURE': {
        const c = this.channels.get(m.recipientChannel);
        if (!c || c.phase !== 'opening') throw new ProtocolError(`SSH_MSG_CHANNEL_OPEN_FAILURE for channel ${m.recipientChannel}, which we are not opening`, [], m.type);
        this.channels.delete(c.localId);
        this.events.push({ type: 'openFailed', id: c.localId, reason: m.reason, description: m.description });
        return;
      }
      case 'SSH_MSG_GLOBAL_REQUEST': {
        let token = -1;
        if (m.wantReply) {
          if (this.globalReplies.size >= this.maxPending) throw new LimitError(`more than ${this.maxPending} unanswered global requests`);
          token = this.globalReplies.add();
        }
        this.events.push({ type: 'globalRequest', token, name: m.name, wantReply: m.wantReply, data: m.data });
        return;
      }
      case 'SSH_MSG_REQUEST_SUCCESS':
      case 'SSH_MSG_REQUEST_FAILURE': {
        const name = this.globalAwaitingReply.shift();
        if (name === undefined) throw new ProtocolError(`${m.type} without a pending global request`, [], m.type);
        const ok = m.type === 'SSH_MSG_REQUEST_SUCCESS';
        this.events.push({ type: 'globalReply', name, ok, data: ok ? m.data : new Uint8Array(0) });
        return;
      }
      default:
        throw new ProtocolError(`unexpected ${m.type} in the connection protocol`, [], m.type);
    }
  }

  private onOpen(m: Extract<Message, { type: 'SSH_MSG_CHANNEL_OPEN' }>): void {
    const refuse = (reason: number, description: string): void =>
      this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_OPEN_FAILURE', recipientChannel: m.senderChannel, reason, description, language: '' }));
    if (this.channels.size >= this.maxChannels) return refuse(OpenFailure.RESOURCE_SHORTAGE, 'too many channels');
    if (m.maximumPacketSize === 0) return refuse(OpenFailure.CONNECT_FAILED, 'maximum packet size 0');
    const c = this.allocate(m.channelType, 'pendingAccept');
    c.remoteId = m.senderChannel;
    c.remoteWindow = m.initialWindowSize;
    c.remoteMaxPacket = m.maximumPacketSize;
    this.events.push({ type: 'channelOpen', id: c.localId, channelType: m.channelType, data: m.data });
  }

  /** A channel the peer may address right now (confirmed, not yet closed by the peer). */
  /**
   * Replies still owed on a channel the peer closed. RFC 4254 §5.3 forbids sending anything after CLOSE, but a
   * server that answers a request on one thread and closes the channel on another can send its CLOSE first
   * (paramiko does when an exec handler finishes quickly). OpenSSH logs and drops such replies; so do we, up to
   * the number of requests still pending, instead of ending the connection. Bounded: the oldest channels go first.
   */
  private noteRepliesAfterClose(c: ChannelState): void {
    if (c.awaitingReply.length === 0) return;
    this.repliesAfterClose.set(c.localId, c.awaitingReply.length);
    if (this.repliesAfterClose.size > MAX_CLOSED_WITH_REPLIES) this.repliesAfterClose.delete(this.repliesAfterClose.keys().next().value!);
  }

  /** A reply for a channel the peer closed while our request was pending: dropped (noteRepliesAfterClose). */
  private lateReply(recipient: number): boolean {
    const n = this.channels.has(recipient) ? 0 : this.repliesAfterClose.get(recipient) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.repliesAfterClose.delete(recipient);
    else this.repliesAfterClose.set(recipient, n - 1);
    return true;
  }

  private live(recipient: number, what: string): ChannelState {
    const c = this.channels.get(recipient);
    if (!c) throw new ProtocolError(`${what} for unknown or closed channel ${recipient}`, [], what);
    if (c.phase === 'opening') throw new ProtocolError(`${what} for channel ${recipient} before its open was confirmed`, [], what);
    if (c.phase === 'pendingAccept') throw new ProtocolError(`${what} for channel ${recipient} before we confirmed it`, [], what);
    return c;
  }

  private onData(c: ChannelState, data: Uint8Array, extended: number | undefined): void {
    const what = extended === undefined ? 'SSH_MSG_CHANNEL_DATA' : 'SSH_MSG_CHANNEL_EXTENDED_DATA';
    // RFC 4254 §5.2: the sender may not exceed the window nor the maximum packet size we announced.
    if (data.length > c.localWindow) throw new ProtocolError(`channel ${c.localId}: ${data.length} bytes of data past the window (${c.localWindow} left)`, [], what);
    if (data.length > this.maxPacket) throw new ProtocolError(`channel ${c.localId}: ${data.length} bytes of data exceed the maximum packet size ${this.maxPacket}`, [], what);
    if (c.recvEof) throw new ProtocolError(`channel ${c.localId}: data after SSH_MSG_CHANNEL_EOF`, [], what);
    c.localWindow -= data.length;
    // After our CLOSE the data has nowhere to go; it still counted against the window.
    if (c.sentClose) return;
    this.events.push(extended === undefined ? { type: 'data', id: c.localId, data } : { type: 'data', id: c.localId, data, extended });
  }

  // ───────────────────────────── commands ─────────────────────────────

  /** Opens a channel (RFC 4254 §5.1); watch for 'openConfirmed' / 'openFailed' with the returned id. */
  openChannel(channelType: string, data: Uint8Array = new Uint8Array(0)): number {
    this.usable();
    if (this.channels.size >= this.maxChannels) throw new ChannelError(`cannot open more than ${this.maxChannels} channels`);
    const c = this.allocate(channelType, 'opening');
    this.host.sendPayload(encodeMessage({
      type: 'SSH_MSG_CHANNEL_OPEN', channelType, senderChannel: c.localId,
      initialWindowSize: this.initialWindow, maximumPacketSize: this.maxPacket, data,
    }));
    return c.localId;
  }

  acceptOpen(id: number, data: Uint8Array = new Uint8Array(0)): void {
    this.usable();
    const c = this.channel(id);
    if (c.phase !== 'pendingAccept') throw new SSHError('USAGE', `channel ${id} is not waiting to be accepted`);
    c.phase = 'open';
    this.host.sendPayload(encodeMessage({
      type: 'SSH_MSG_CHANNEL_OPEN_CONFIRMATION', recipientChannel: c.remoteId, senderChannel: c.localId,
      initialWindowSize: this.initialWindow, maximumPacketSize: this.maxPacket, data,
    }));
  }

  rejectOpen(id: number, reason: number, description = ''): void {
    this.usable();
    const c = this.channel(id);
    if (c.phase !== 'pendingAccept') throw new SSHError('USAGE', `channel ${id} is not waiting to be accepted`);
    this.channels.delete(id);
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_OPEN_FAILURE', recipientChannel: c.remoteId, reason, description, language: '' }));
  }

  /** Bytes we may send on the channel right now (the peer's window). */
  writable(id: number): number {
    const c = this.channels.get(id);
    return c && c.phase === 'open' && !c.sentEof && !c.sentClose ? c.remoteWindow : 0;
  }

  /**
   * Sends as much of `data` as the peer's window allows, split at its maximum packet size.
   * Returns the number of bytes taken; wait for 'windowAvailable' to send the rest.
   */
  sendData(id: number, data: Uint8Array, extended?: number): number {
    this.usable();
    const c = this.channel(id);
    if (c.phase !== 'open') throw new ChannelError(`channel ${id} is not open`);
    if (c.sentEof || c.sentClose) throw new ChannelError(`channel ${id}: write after ${c.sentClose ? 'close' : 'EOF'}`);
    const n = Math.min(data.length, c.remoteWindow);
    for (let off = 0; off < n;) {
      const len = Math.min(n - off, c.remoteMaxPacket);
      const chunk = data.subarray(off, off + len);
      // the engine copies header and data straight into the packet when it can (one copy of the data)
      if (this.host.sendPayloadParts) this.host.sendPayloadParts(channelDataHeader(c.remoteId, len, extended), chunk);
      else this.host.sendPayload(channelDataPayload(c.remoteId, chunk, extended));
      off += len;
    }
    c.remoteWindow -= n;
    return n;
  }

  /**
   * The consumer took `n` bytes of this channel's data out of its buffer: give the window back once half of
   * it is used up (like OpenSSH), so a fast consumer sees few adjusts and a stalled one stops the sender.
   */
  consume(id: number, n: number): void {
    if (this.error) return;
    const c = this.channels.get(id);
    if (!c || c.phase !== 'open' || n <= 0) return;
    c.consumed += n;
    if (c.sentClose || c.recvEof) return;
    if (c.consumed >= this.initialWindow / 2 || c.localWindow === 0) {
      const add = Math.min(c.consumed, MAX_UINT32 - c.localWindow);
      c.consumed = 0;
      if (add <= 0) return;
      c.localWindow += add;
      this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_WINDOW_ADJUST', recipientChannel: c.remoteId, bytesToAdd: add }));
    }
  }

  sendEof(id: number): void {
    this.usable();
    const c = this.channel(id);
    if (c.phase !== 'open' || c.sentEof || c.sentClose) return;
    c.sentEof = true;
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_EOF', recipientChannel: c.remoteId }));
  }

  /** Sends CLOSE (once). The id stays reserved until the peer's CLOSE arrives ('closed' event). */
  close(id: number): void {
    if (this.error) return;
    const c = this.channels.get(id);
    if (!c || c.sentClose) return;
    if (c.phase === 'pendingAccept') return this.rejectOpen(id, OpenFailure.ADMINISTRATIVELY_PROHIBITED, 'closed before accepted');
    c.sentClose = true;
    if (c.phase === 'open') this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_CLOSE', recipientChannel: c.remoteId }));
  }

  /** RFC 4254 §5.4. With wantReply, watch for 'requestReply' (replies come in request order). */
  sendRequest(id: number, requestType: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)): void {
    this.usable();
    const c = this.channel(id);
    if (c.phase !== 'open' || c.sentClose) throw new ChannelError(`channel ${id} is not open`);
    if (wantReply) c.awaitingReply.push(requestType);
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_CHANNEL_REQUEST', recipientChannel: c.remoteId, requestType, wantReply, data }));
  }

  /** Answers the peer's channel request `token` (from its 'request' event). */
  replyRequest(id: number, token: number, ok: boolean): void {
    if (this.error || token < 0) return;
    const c = this.channels.get(id);
    if (!c || c.sentClose) return;
    for (const r of c.replies.settle(token, ok)) {
      this.host.sendPayload(encodeMessage(r.ok
        ? { type: 'SSH_MSG_CHANNEL_SUCCESS', recipientChannel: c.remoteId }
        : { type: 'SSH_MSG_CHANNEL_FAILURE', recipientChannel: c.remoteId }));
    }
  }

  /** RFC 4254 §4. With wantReply, watch for 'globalReply'. */
  sendGlobalRequest(name: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)): void {
    this.usable();
    if (wantReply) this.globalAwaitingReply.push(name);
    this.host.sendPayload(encodeMessage({ type: 'SSH_MSG_GLOBAL_REQUEST', name, wantReply, data }));
  }

  /** Answers the peer's global request `token`; `data` is the REQUEST_SUCCESS body (e.g. the bound port). */
  replyGlobalRequest(token: number, ok: boolean, data: Uint8Array = new Uint8Array(0)): void {
    if (this.error || token < 0) return;
    for (const r of this.globalReplies.settle(token, ok, data)) {
      this.host.sendPayload(encodeMessage(r.ok
        ? { type: 'SSH_MSG_REQUEST_SUCCESS', data: r.data ?? new Uint8Array(0) }
        : { type: 'SSH_MSG_REQUEST_FAILURE' }));
    }
  }

  /** Facts about one channel, for the owner of its stream. */
  info(id: number): { readonly channelType: string; readonly remoteId: number; readonly remoteWindow: number; readonly remoteMaxPacket: number; readonly open: boolean } | undefined {
    const c = this.channels.get(id);
    return c && { channelType: c.channelType, remoteId: c.remoteId, remoteWindow: c.remoteWindow, remoteMaxPacket: c.remoteMaxPacket, open: c.phase === 'open' && !c.sentClose };
  }

  private usable(): void {
    if (this.error) throw this.error;
  }

  private channel(id: number): ChannelState {
    const c = this.channels.get(id);
    if (!c) throw new ChannelError(`no channel ${id}`);
    return c;
  }

  private allocate(channelType: string, phase: ChannelPhase): ChannelState {
    // Numbers are reused only after both CLOSEs; the search is bounded because size < maxChannels ≤ 2^32.
    let id = this.nextId;
    while (this.channels.has(id) || this.repliesAfterClose.has(id)) id = id === MAX_UINT32 ? 0 : id + 1;
    this.nextId = id === MAX_UINT32 ? 0 : id + 1;
    const c: ChannelState = {
      localId: id, channelType, phase, remoteId: 0, localWindow: this.initialWindow, consumed: 0,
      remoteWindow: 0, remoteMaxPacket: 0, sentEof: false, recvEof: false, sentClose: false,
      awaitingReply: [], replies: new ReplyQueue(),
    };
    this.channels.set(id, c);
    return c;
  }
}
