/**
 * Encodes a generated message by walking the impl/messages schema (the schema is data), with the
 * fuzzer's escape hatches: a `{ $raw }` field goes on the wire verbatim and a `{ $chan }` reference is
 * resolved to the peer's channel number. Valid values encode byte-for-byte like the typed codec (the test
 * checks this); the typed codec itself refuses near-valid values, which is why this walker exists.
 */
import { codecByName, field as F, type AnyMessageCodec, type Field, type Fields, type ItemSchema } from '../../impl/messages/index.js';
import { Writer } from '../../impl/wire/index.js';
import { isChannelRef, isRaw } from './value.js';

/** A generated message: `type` is the RFC name (or 'unknown' with `id` and `body`). */
export type FuzzMessage = { readonly type: string } & { readonly [field: string]: unknown };

export type ChannelResolver = (index: number) => number;

const utf8 = new TextEncoder();

export function codecOf(type: string): AnyMessageCodec {
  const c = codecByName(type);
  if (!c) throw new TypeError(`no codec for ${JSON.stringify(type)}`);
  return c;
}

export function encodeFuzzMessage(m: FuzzMessage, chan: ChannelResolver = (i) => i): Uint8Array {
  const w = new Writer(64);
  if (m.type === 'unknown') {
    w.byte(Number(m.id) & 0xff);
    const body = m.body;
    if (body instanceof Uint8Array) w.raw(body);
    return w.finish();
  }
  const c = codecOf(m.type);
  w.byte(c.id);
  writeFields(w, c.fields, m, chan);
  if (c.variants) {
    const on = m[c.variants.on];
    const tail = (typeof on === 'string' ? c.variants.cases[on] : undefined) ?? c.variants.otherwise;
    if (tail) writeFields(w, tail, m, chan);
  }
  return w.finish();
}

function writeFields(w: Writer, fields: Fields, v: { readonly [k: string]: unknown }, chan: ChannelResolver): void {
  for (const [name, f] of Object.entries(fields)) {
    const x = v[name];
    // a conditional field is written when present, whatever its flag says (near-valid: flag/field mismatch)
    if (x === undefined) {
      if (f.when !== undefined) continue;
      writeDefault(w, f);
      continue;
    }
    writeField(w, f, x, chan);
  }
}

/** A missing mandatory field gets its zero value, so partial values still encode. */
function writeDefault(w: Writer, f: Field): void {
  switch (f.kind) {
    case 'byte': case 'boolean': w.byte(0); return;
    case 'uint64': w.uint64(0n); return;
    case 'bytes': w.raw(new Uint8Array(f.length)); return;
    case 'rest': case 'repeat': return;
    default: w.uint32(0);
  }
}

function writeField(w: Writer, f: Field, x: unknown, chan: ChannelResolver): void {
  if (isRaw(x)) { w.raw(x.$raw); return; }
  if (isChannelRef(x)) { w.uint32(chan(x.$chan)); return; }
  switch (f.kind) {
    case 'byte': w.byte(Number(x)); return;
    case 'boolean': w.byte(typeof x === 'number' ? x : x ? 1 : 0); return;
    case 'uint32': w.uint32(Number(x)); return;
    case 'uint64': w.uint64(typeof x === 'bigint' ? x : BigInt(Number(x))); return;
    case 'mpint': w.mpint(typeof x === 'bigint' ? x : BigInt(Number(x))); return;
    case 'string': w.string(x instanceof Uint8Array ? x : utf8.encode(String(x))); return;
    case 'utf8': w.string(typeof x === 'string' ? utf8.encode(x) : (x as Uint8Array)); return;
    case 'ascii': w.string(typeof x === 'string' ? Buffer.from(x, 'latin1') : (x as Uint8Array)); return;
    case 'nameList': w.string(Buffer.from(Array.isArray(x) ? x.join(',') : String(x), 'latin1')); return;
    case 'bytes': case 'rest': w.raw(x as Uint8Array); return;
    case 'list': case 'repeat': {
      const items = x as readonly unknown[];
      if (f.kind === 'list') w.uint32(items.length);
      for (const item of items) writeItem(w, f.items, item, chan);
      return;
    }
  }
}

function writeItem(w: Writer, s: ItemSchema, item: unknown, chan: ChannelResolver): void {
  if (F.isField(s)) writeField(w, s, item, chan);
  else if (isRaw(item)) w.raw(item.$raw);
  else writeFields(w, s, item as { readonly [k: string]: unknown }, chan);
}

/** Encodes a record of fields (request-specific data, RFC 4254 §5.4/§6) with the same escape hatches. */
export function encodeFuzzFields(fields: Fields, value: { readonly [k: string]: unknown }, chan: ChannelResolver = (i) => i): Uint8Array {
  const w = new Writer(32);
  writeFields(w, fields, value, chan);
  return w.finish();
}
