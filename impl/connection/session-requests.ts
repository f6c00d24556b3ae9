/**
 * What each side does with the channel requests the peer sends (RFC 4254 §6): the server validates them and
 * asks its policy, the client records exit status/signal. Bad request data is answered with failure, never a
 * disconnect: the message itself was well-formed.
 */
import { decodeChannelRequestData, type ChannelRequestData } from '../messages/index.js';
import type { Channel, ChannelRequestHandler, RequestOutcome } from './channel.js';
import type { ServerPolicy, WindowSize } from './policy.js';

/** Bounds on what a pty-req / window-change may ask for; beyond them the request fails. */
export const PTY_LIMITS = { maxCells: 16_384, maxPixels: 1 << 20, maxModes: 2048 } as const;

const refused: RequestOutcome = { ok: false };

function decode(requestType: string, data: Uint8Array): ChannelRequestData | undefined {
  try {
    return decodeChannelRequestData(requestType, data);
  } catch {
    return undefined;
  }
}

function sizeOk(s: WindowSize): boolean {
  return s.cols <= PTY_LIMITS.maxCells && s.rows <= PTY_LIMITS.maxCells && s.widthPx <= PTY_LIMITS.maxPixels && s.heightPx <= PTY_LIMITS.maxPixels;
}

/**
 * RFC 4254 §8: opcode bytes, 1–159 followed by a uint32 argument, 0 (TTY_OP_END) ends the list and 160–255
 * stop parsing. Returns false when an argument runs past the end.
 */
export function terminalModesOk(modes: Uint8Array): boolean {
  if (modes.length > PTY_LIMITS.maxModes) return false;
  for (let i = 0; i < modes.length;) {
    const op = modes[i]!;
    if (op === 0 || op >= 160) return true;
    i += 5;
    if (i > modes.length) return false;
  }
  return true;
}

async function ask<T extends unknown[]>(check: ((...args: T) => boolean | Promise<boolean>) | undefined, args: T, fallback: boolean): Promise<boolean> {
  if (!check) return fallback;
  try {
    return (await check(...args)) === true;
  } catch {
    return false;
  }
}

/** The server's answer to session requests, consulting `policy` (missing checks deny, except signal/window-change/eow). */
export function serverRequestHandler(policy: ServerPolicy): ChannelRequestHandler {
  return async (ch: Channel, requestType: string, data: Uint8Array): Promise<RequestOutcome> => {
    const req = decode(requestType, data);
    if (!req || ch.kind !== 'session') return refused;
    switch (req.kind) {
      case 'pty-req': {
        // one terminal per session, of a sane size (issue 5: huge pty dimensions must fail, not allocate)
        if (ch.pty || !sizeOk(req) || !terminalModesOk(req.modes)) return refused;
        const pty = { term: req.term, cols: req.cols, rows: req.rows, widthPx: req.widthPx, heightPx: req.heightPx, modes: req.modes };
        if (!(await ask(policy.checkChannelPtyRequest?.bind(policy), [ch, pty], false))) return refused;
        ch.pty = pty;
        return { ok: true, event: ['pty', pty] };
      }
      case 'env':
        if (!(await ask(policy.checkChannelEnvRequest?.bind(policy), [ch, req.name, req.value], false))) return refused;
        if (ch.env.size >= 256) return refused;
        ch.env.set(req.name, req.value);
        return { ok: true, event: ['env', req.name, req.value] };
      // RFC 4254 §6.5: only one of shell/exec/subsystem succeeds per channel
      case 'shell':
        if (started(ch) || !(await ask(policy.checkChannelShellRequest?.bind(policy), [ch], false))) return refused;
        ch.shellRequested = true;
        return { ok: true, event: ['shell'] };
      case 'exec':
        if (started(ch) || !(await ask(policy.checkChannelExecRequest?.bind(policy), [ch, req.command], false))) return refused;
        ch.command = req.command;
        return { ok: true, event: ['exec', req.command] };
      case 'subsystem':
        if (started(ch) || !(await ask(policy.checkChannelSubsystemRequest?.bind(policy), [ch, req.name], false))) return refused;
        ch.subsystemName = req.name;
        return { ok: true, event: ['subsystem', req.name] };
      case 'window-change': {
        if (!ch.pty || !sizeOk(req)) return refused;
        const size = { cols: req.cols, rows: req.rows, widthPx: req.widthPx, heightPx: req.heightPx };
        if (!(await ask(policy.checkChannelWindowChangeRequest?.bind(policy), [ch, size], true))) return refused;
        ch.pty = { ...ch.pty, ...size };
        return { ok: true, event: ['window-change', size] };
      }
      case 'signal':
        if (!(await ask(policy.checkChannelSignalRequest?.bind(policy), [ch, req.signal], true))) return refused;
        return { ok: true, event: ['signal', req.signal] };
      case 'eow@openssh.com':
        return { ok: true, event: ['eow'] };
      default:
        // x11-req, auth-agent-req@openssh.com, xon-xoff, keepalive@openssh.com (OpenSSH answers failure too), unknown
        return refused;
    }
  };
}

function started(ch: Channel): boolean {
  return ch.shellRequested || ch.command !== undefined || ch.subsystemName !== undefined;
}

/** The client's answer to requests from the server: exit status/signal, eow, xon-xoff; everything else fails. */
export const clientRequestHandler: ChannelRequestHandler = (ch: Channel, requestType: string, data: Uint8Array): RequestOutcome => {
  const req = decode(requestType, data);
  if (!req) return refused;
  switch (req.kind) {
    case 'exit-status':
      ch._onExit(req.status, undefined);
      return { ok: true, event: ['exit', req.status] };
    case 'exit-signal': {
      const sig = { signal: req.signal, coreDumped: req.coreDumped, errorMessage: req.errorMessage };
      ch._onExit(undefined, sig);
      return { ok: true, event: ['exit', null, req.signal, req.coreDumped, req.errorMessage] };
    }
    case 'eow@openssh.com':
      return { ok: true, event: ['eow'] };
    case 'xon-xoff':
      return { ok: true, event: ['xon-xoff', req.clientCanDo] };
    default:
      return refused;
  }
};
