/**
 * Seed cases from the conformance suite (issue 8: "seed corpora: valid handshakes from the scenario suite"):
 * each server-role data check of scenarios/*.yaml becomes a fuzz case — the phase its protocol steps reach
 * (connect, kex, service, auth, open-session) is the start, what it sends afterwards becomes steps (messages,
 * raw bytes, packet deviations, rekey, exec) and its expectations are dropped: the fuzz oracles judge instead.
 * A campaign runs the seeds first (`ssh-harness fuzz --seeds scenarios`), so every message the suite knows how
 * to build reaches the target in the state the suite puts it in, before generation starts.
 *
 * A raw connection's lines and hand-framed cleartext packets (connect-raw, send-line, send-kexinit,
 * send-packet) become raw bytes from `pre-kex`. Checks that cannot be a fuzz case are skipped with the reason:
 * client-role checks (the fuzzer drives servers), branches (`if`), engine options the fuzz client does not take
 * (strict-kex, ext-info, version), and messages that use values only a live run learns (`as:` captures).
 */
import { loadDataFile, scenarioFiles } from '../scenario/loader.js';
import type { Json } from '../scenario/data-format.js';
import { algorithmLists, corruptionOf, defaultKexInit, framingOf, materialize, obj, stepBytes, toMessage } from '../scenario/interpret.js';
import { framePlain } from '../scenario/raw-conn.js';
import { encodeMessage, type MessageInput } from '../../impl/messages/index.js';
import type { Check } from '../scenario/types.js';
import type { AlgorithmPreferences } from '../../impl/transport/types.js';
import type { SeedCase } from './campaign.js';
import type { Phase, Step } from './steps.js';
import { toJson } from './value.js';
import type { FuzzMessage } from './wire-encode.js';

export interface ScenarioSeeds {
  readonly seeds: SeedCase[];
  /** `<file>#<check id>: why` for every check that did not become a seed. */
  readonly skipped: string[];
}

/** Steps that only observe or control the check's flow: the fuzz oracles replace them. */
const OBSERVING = new Set(['expect', 'expect-disconnect', 'expect-reject', 'expect-silence', 'expect-graceful', 'expect-absent', 'expect-closed', 'expect-line', 'ping', 'check', 'wait', 'note', 'verdict']);

const KEXINIT_LISTS = new Set(['kexAlgorithms', 'serverHostKeyAlgorithms', 'encryptionC2S', 'encryptionS2C', 'macC2S', 'macS2C', 'compressionC2S', 'compressionS2C', 'languagesC2S', 'languagesS2C', 'firstKexPacketFollows', 'reserved']);

class NotASeed extends Error {}

/** A scenario message as a fuzz message: channel variables become `{ $chan: n }`, credentials the target's. */
function messageOf(v: Json, vars: Map<string, Json>): FuzzMessage {
  try {
    return toMessage(v, vars) as unknown as FuzzMessage;
  } catch (e) {
    throw new NotASeed(`a message uses a value only a live run has (${(e as Error).message})`);
  }
}

/** One check as a seed case, or NotASeed with the reason. */
export function seedOfCheck(check: Check, credentials: { user: string; password?: string }): SeedCase {
  if (check.role !== 'server') throw new NotASeed('a client-role check (the fuzzer drives servers)');
  const script = check.steps;
  if (!script) throw new NotASeed('a TypeScript check (no steps as data)');
  const vars = new Map<string, Json>([['user', credentials.user], ['password', credentials.password ?? ''], ['sent', 0]]);
  let start: Phase | undefined;
  let algorithms: AlgorithmPreferences = {};
  let raw = false;
  let channels = 0;
  const steps: Step[] = [];
  /** The phase the leading protocol steps reached; fixed as the start at the first step that sends something. */
  let reached: Phase = 'pre-kex';
  const emit = (s: Step): void => {
    start ??= reached;
    steps.push(s);
  };
  for (const step of script) {
    const [kind, arg] = Object.entries(step)[0] as [string, Json];
    const a = obj(arg);
    if (OBSERVING.has(kind)) continue;
    switch (kind) {
      case 'connect': {
        if (reached !== 'pre-kex' || steps.length > 0) throw new NotASeed('a second connection');
        for (const k of ['strict-kex', 'ext-info', 'version', 'comments']) if (a[k] !== undefined) throw new NotASeed(`connect option "${k}" (the fuzz client has none)`);
        algorithms = algorithmLists(a['algorithms']);
        const kexinit = obj(a['kexinit']);
        if (Object.keys(kexinit).length > 0) {
          const bad = Object.keys(kexinit).find((k) => !KEXINIT_LISTS.has(k));
          if (bad) throw new NotASeed(`KEXINIT override of "${bad}"`);
          emit({ op: 'kexinit', lists: kexinit as never });
        }
        reached = 'kex';
        continue;
      }
      case 'connect-raw':
        raw = true;
        continue;
      case 'kex':
        // waiting for the kex: a case settles after every step anyway
        if (start === undefined && reached === 'kex') reached = 'newkeys';
        continue;
      case 'service': {
        const name = typeof arg === 'string' ? arg : String(a['name'] ?? 'ssh-userauth');
        if (start === undefined && name === 'ssh-userauth' && (reached === 'kex' || reached === 'newkeys')) reached = 'userauth';
        else emit({ op: 'service', name });
        continue;
      }
      case 'auth': {
        const m = typeof arg === 'string' ? arg : String(a['method'] ?? 'any');
        if (start === undefined && reached !== 'pre-kex' && reached !== 'authenticated' && reached !== 'channel') reached = 'authenticated';
        else emit({ op: 'auth', method: m === 'publickey' ? 'publickey' : 'password', valid: true });
        continue;
      }
      case 'open-session': {
        if (a['window'] !== undefined || a['max-packet'] !== undefined || a['local'] !== undefined) throw new NotASeed('open-session with its own window/max-packet/local');
        const as = typeof a['as'] === 'string' ? a['as'] : 'ch';
        vars.set(`${as}.local`, channels);
        vars.set(`${as}.remote`, { $chan: channels } as unknown as Json);
        channels++;
        if (start === undefined && reached === 'authenticated' && channels === 1) reached = 'channel';
        else emit({ op: 'open', channelType: 'session' });
        continue;
      }
      case 'exec': {
        const command = typeof arg === 'string' ? arg : String(a['command']);
        const as = typeof arg === 'string' ? 'ch' : typeof a['channel'] === 'string' ? a['channel'] : 'ch';
        const local = vars.get(`${as}.local`);
        if (typeof local !== 'number') throw new NotASeed(`exec on an unknown channel "${as}"`);
        emit({ op: 'exec', chan: local, command });
        continue;
      }
      case 'send': case 'send-raw':
        if (raw) throw new NotASeed('a raw connection');
        emit({ op: 'send', msg: messageOf(arg, vars) });
        continue;
      case 'send-payload': {
        if (raw) throw new NotASeed('a raw connection');
        const b = Uint8Array.from(Buffer.from(String(a['hex'] ?? ''), 'hex'));
        if (b.length === 0) throw new NotASeed('an empty payload');
        emit({ op: 'send', msg: { type: 'unknown', id: b[0]!, body: b.subarray(1) } });
        continue;
      }
      case 'send-bytes': case 'send-line':
        emit({ op: 'bytes', data: stepBytes(kind, arg) });
        continue;
      case 'corrupt-next': {
        const { id, ...corruption } = corruptionOf(a);
        emit({ op: 'deviate', ...(id !== undefined ? { id } : {}), deviation: { kind: 'corrupt', ...corruption } });
        continue;
      }
      case 'skip-next': case 'duplicate-next':
        emit({ op: 'deviate', id: Number(arg), deviation: { kind: kind === 'skip-next' ? 'skip' : 'duplicate' } });
        continue;
      case 'delay-next':
        emit({ op: 'deviate', id: Number(a['id']), deviation: { kind: 'delay', after: typeof a['after'] === 'number' ? a['after'] : 1 } });
        continue;
      case 'rekey':
        emit({ op: 'rekey' });
        continue;
      case 'send-kexinit': case 'send-packet': {
        // hand-framed cleartext packets of a raw connection (before any NEWKEYS): bytes on the wire
        if (!raw) throw new NotASeed(`step "${kind}" without a raw connection`);
        let payload: Uint8Array;
        try {
          payload = kind === 'send-kexinit' ? encodeMessage({ ...defaultKexInit(), ...(materialize(arg, vars) as object) } as MessageInput)
            : a['message'] !== undefined ? encodeMessage(toMessage(a['message']!, vars)) : Uint8Array.from(Buffer.from(String(a['payload'] ?? ''), 'hex'));
        } catch (e) {
          throw new NotASeed(`a packet that does not encode (${(e as Error).message})`);
        }
        emit({ op: 'bytes', data: Uint8Array.from(framePlain(payload, kind === 'send-packet' ? framingOf(a) : {})) });
        continue;
      }
      default:
        // if (branches on what the peer offered or sent), kexinit-override (a rekey with other lists)
        throw new NotASeed(`step "${kind}"`);
    }
  }
  // a check that only walks the protocol (a handshake with its algorithms, a login) is a seed too: the case
  // reaches that phase and the end-of-case probe and oracles run there
  if (steps.length === 0 && reached === 'pre-kex') throw new NotASeed('no connection and nothing sent');
  return { file: `${check.source.file}#${check.id}`, start: start ?? reached, algorithms, steps };
}

/**
 * Every server-role check of the YAML scenario files under `dir` as a seed (identical cases once), or skipped.
 * JSON files are left to the corpus loader (replay.ts loadSeeds): in a seeds directory they are corpus entries.
 */
export function scenarioSeeds(dir: string, credentials: { user: string; password?: string }): ScenarioSeeds {
  const seeds: SeedCase[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const file of scenarioFiles(dir).filter((f) => /\.ya?ml$/i.test(f))) {
    let checks: Check[];
    try {
      checks = loadDataFile(file);
    } catch (e) {
      skipped.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    for (const c of checks) {
      try {
        const seed = seedOfCheck(c, credentials);
        const key = JSON.stringify(toJson([seed.start, seed.algorithms, seed.steps]));
        if (!seen.has(key)) { seen.add(key); seeds.push(seed); }
      } catch (e) {
        if (!(e instanceof NotASeed)) throw e;
        skipped.push(`${c.source.file}#${c.id}: ${e.message}`);
      }
    }
  }
  return { seeds, skipped };
}

