/**
 * Decoding one etcd key/value of the layout into a DirectoryEvent, validating the value against its schema.
 * Keys this layout version does not know are ignored; values that fail validation are reported, not applied.
 */
import type { ZodType } from 'zod';
import type { Keyspace } from '../keyspace.js';
import { AliveSchema, DefinitionSchema, IocInfoSchema, StoredChannelSchema, StoredRecordSchema } from '../model.js';
import type { DirectoryEvent } from './events.js';
import { messageOf } from '../errors.js';

/** The outcome of decoding one change: an event, a key to ignore, or a bad value to report. */
export type DecodeResult =
  | { readonly ok: true; readonly event: DirectoryEvent }
  | { readonly ok: false; readonly ignored: true }
  | { readonly ok: false; readonly ignored: false; readonly key: string; readonly message: string };

/** How a key and its value become a directory event (decodeChange over a keyspace, or with replicas: decode-replica.ts). */
export type ChangeDecoder = (key: string, value: string | null, modRevision: number) => DecodeResult;

/** Decode a put (`value` given) or a delete (`value` null) of `key`, last modified at `modRevision`. */
export function decodeChange(keys: Keyspace, key: string, value: string | null, modRevision = 0): DecodeResult {
  const parsed = keys.parse(key);
  if (parsed === null) return { ok: false, ignored: true };
  const bad = (message: string): DecodeResult => ({ ok: false, ignored: false, key, message });
  switch (parsed.kind) {
    case 'iocInfo': {
      if (value === null) return { ok: true, event: { kind: 'iocInfo', iocId: parsed.iocId, value: null } };
      const v = parseJson(value, IocInfoSchema);
      return typeof v === 'string' ? bad(v) : { ok: true, event: { kind: 'iocInfo', iocId: parsed.iocId, value: v } };
    }
    case 'alive': {
      if (value === null) return { ok: true, event: { kind: 'alive', iocId: parsed.iocId, value: null } };
      const v = parseJson(value, AliveSchema);
      return typeof v === 'string' ? bad(v) : { ok: true, event: { kind: 'alive', iocId: parsed.iocId, value: v } };
    }
    case 'record': {
      const base = { kind: 'record', iocId: parsed.iocId, name: parsed.name } as const;
      if (value === null) return { ok: true, event: { ...base, value: null } };
      const v = parseJson(value, StoredRecordSchema);
      if (typeof v === 'string') return bad(v);
      if (v.name !== parsed.name) return bad(`record name ${JSON.stringify(v.name)} does not match its key`);
      return { ok: true, event: { ...base, value: v } };
    }
    case 'channel': {
      const rev = value === null ? 0 : modRevision;
      if (value === null) return { ok: true, event: { kind: 'channel', name: parsed.name, value: null, modRevision: rev } };
      const v = parseJson(value, StoredChannelSchema);
      if (typeof v === 'string') return bad(v);
      if (v.name !== parsed.name) return bad(`channel name ${JSON.stringify(v.name)} does not match its key`);
      return { ok: true, event: { kind: 'channel', name: parsed.name, value: v, modRevision: rev } };
    }
    case 'propertyDef':
    case 'tagDef': {
      const kind = parsed.kind;
      const rev = value === null ? 0 : modRevision;
      if (value === null) return { ok: true, event: { kind, name: parsed.name, value: null, modRevision: rev } };
      const v = parseJson(value, DefinitionSchema);
      if (typeof v === 'string') return bad(v);
      if (v.name !== parsed.name) return bad(`definition name ${JSON.stringify(v.name)} does not match its key`);
      return { ok: true, event: { kind, name: parsed.name, value: v, modRevision: rev } };
    }
  }
}

function parseJson<T>(raw: string, schema: ZodType<T>): T | string {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return `invalid JSON: ${messageOf(err)}`;
  }
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  return r.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ');
}
