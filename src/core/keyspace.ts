/**
 * The etcd key layout of pvsync, in one place (docs/keyspace.md). Every key lives under `/pvsync/v1/`; names are
 * escaped so that `/` and `%` inside a PV or IOC name never split a key, and keys stay readable with `etcdctl`.
 */

/** The root of all keys of this layout version. */
export const ROOT = '/pvsync/v1/';

// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /[%/\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const ESCAPED = /[%/\u0000-\u001f\u007f]/g;

/** Escape one key segment: `%` → `%25`, `/` → `%2F`, control characters as `%XX`; everything else stays readable. */
export function escapeSegment(s: string): string {
  // Most names need nothing: a test is several times cheaper than a replace that finds nothing (one per record).
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(ESCAPED, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** Inverse of escapeSegment. */
export function unescapeSegment(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Builds and parses keys under a root (tests give each suite its own root). */
export class Keyspace {
  constructor(readonly root: string = ROOT) {
    if (!root.endsWith('/')) throw new Error(`keyspace root must end with '/': ${root}`);
  }

  /** `<root>iocs/`: prefix of every IOC's keys. */
  get iocsPrefix(): string { return `${this.root}iocs/`; }
  /** `<root>alive/`: prefix of the leased liveness keys. */
  get alivePrefix(): string { return `${this.root}alive/`; }
  /** `<root>channels/`: prefix of the channels written through the API (and user additions to IOC channels). */
  get channelsPrefix(): string { return `${this.root}channels/`; }
  /** `<root>defs/properties/`: prefix of the property definitions. */
  get propertyDefsPrefix(): string { return `${this.root}defs/properties/`; }
  /** `<root>defs/tags/`: prefix of the tag definitions. */
  get tagDefsPrefix(): string { return `${this.root}defs/tags/`; }
  /** `<root>progress-probe`: read and watched by the mirror's progress check, never written. */
  get progressProbe(): string { return `${this.root}progress-probe`; }

  /** `<root>iocs/<ioc>/info`: the IOC's identity, environment and upload state (IocInfo JSON). */
  iocInfo(iocId: string): string { return `${this.iocsPrefix}${escapeSegment(iocId)}/info`; }
  /** `<root>iocs/<ioc>/records/`: prefix of the IOC's records. */
  iocRecordsPrefix(iocId: string): string { return `${this.iocsPrefix}${escapeSegment(iocId)}/records/`; }
  /** `<root>iocs/<ioc>/records/<name>`: one record (StoredRecord JSON); never leased, never deleted by uploads. */
  iocRecord(iocId: string, name: string): string { return `${this.iocRecordsPrefix(iocId)}${escapeSegment(name)}`; }
  /** `<root>alive/<ioc>`: present (bound to the uploader's lease) while the IOC is alive (Alive JSON). */
  alive(iocId: string): string { return `${this.alivePrefix}${escapeSegment(iocId)}`; }

  /** `<root>bridge-sessions/<ioc>`: the RecCaster bridge session that may write the IOC's keys (leased). */
  bridgeSession(iocId: string): string { return `${this.root}bridge-sessions/${escapeSegment(iocId)}`; }

  /** `<root>channels/<name>`: a channel as written through the API (StoredChannel JSON). */
  channel(name: string): string { return `${this.channelsPrefix}${escapeSegment(name)}`; }
  /** `<root>defs/properties/<name>`: a property definition (Definition JSON). */
  propertyDef(name: string): string { return `${this.propertyDefsPrefix}${escapeSegment(name)}`; }
  /** `<root>defs/tags/<name>`: a tag definition (Definition JSON). */
  tagDef(name: string): string { return `${this.tagDefsPrefix}${escapeSegment(name)}`; }

  /** Classify a key of this layout; `null` for keys this version does not know (they are ignored, not fatal). */
  parse(key: string): ParsedKey | null {
    if (!key.startsWith(this.root)) return null;
    const rest = key.slice(this.root.length).split('/');
    const [area, a, b, c] = rest;
    if (area === 'iocs' && a !== undefined) {
      const iocId = unescapeSegment(a);
      if (b === 'info' && rest.length === 3) return { kind: 'iocInfo', iocId };
      if (b === 'records' && c !== undefined && rest.length === 4) {
        return { kind: 'record', iocId, name: unescapeSegment(c) };
      }
    }
    if (area === 'alive' && a !== undefined && rest.length === 2) return { kind: 'alive', iocId: unescapeSegment(a) };
    if (area === 'channels' && a !== undefined && rest.length === 2) return { kind: 'channel', name: unescapeSegment(a) };
    if (area === 'defs' && b !== undefined && rest.length === 3) {
      if (a === 'properties') return { kind: 'propertyDef', name: unescapeSegment(b) };
      if (a === 'tags') return { kind: 'tagDef', name: unescapeSegment(b) };
    }
    return null;
  }
}

/** What a key of the layout designates. */
export type ParsedKey =
  | { readonly kind: 'iocInfo'; readonly iocId: string }
  | { readonly kind: 'record'; readonly iocId: string; readonly name: string }
  | { readonly kind: 'alive'; readonly iocId: string }
  | { readonly kind: 'channel'; readonly name: string }
  | { readonly kind: 'propertyDef'; readonly name: string }
  | { readonly kind: 'tagDef'; readonly name: string };

/** The stable identity of an IOC: its name and host, as `IOCNAME@host`. */
export function iocIdOf(iocName: string, hostName: string): string {
  return `${iocName}@${hostName}`;
}
