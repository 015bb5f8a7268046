/**
 * One IOC's RecCaster session as a state table (pure): which message may come in which state, and what each one
 * adds to the upload. Records are handed out as soon as they are finished (the next record began), so they can be
 * written while the upload streams in; late additions to a finished record are handed out again at UploadDone.
 */
import { PvsError } from '../errors.js';
import { iocIdOf } from '../keyspace.js';
import type { IocRecord } from '../model.js';
import type { ClientMessage } from './messages.js';

/** Where a session is: awaiting ClientGreet, IOC-wide infos, records, or after UploadDone. */
export type SessionState = 'greeting' | 'environment' | 'records' | 'done' | 'closed';

type Kind = Exclude<ClientMessage['kind'], 'Refused'>;

// state → message → next state; a missing entry is the IOC breaking the protocol.
const TABLE: Readonly<Record<SessionState, Partial<Record<Kind, SessionState>>>> = {
  greeting: { ClientGreet: 'environment', Pong: 'greeting' },
  environment: { AddInfo: 'environment', AddRecord: 'records', DelRecord: 'environment', UploadDone: 'done', Pong: 'environment' },
  records: { AddInfo: 'records', AddRecord: 'records', DelRecord: 'records', UploadDone: 'done', Pong: 'records' },
  done: { Pong: 'done' },
  closed: {},
};

/** Who the IOC is, from its IOC-wide infos (HOSTNAME, IOCNAME; the peer address where they are missing). */
export interface IocIdentity {
  readonly iocId: string;
  readonly iocName: string;
  readonly hostName: string;
  readonly iocIP: string;
  /** Every IOC-wide info the IOC sent (EPICS_VERSION and its environment), published as the IOC's env. */
  readonly env: Readonly<Record<string, string>>;
}

/** What the caller must do after a message. */
export type SessionEffect =
  /** The IOC-wide infos are complete (the first record or UploadDone arrived). */
  | { readonly kind: 'identity'; readonly identity: IocIdentity }
  /** Records finished: write them. */
  | { readonly kind: 'records'; readonly records: readonly IocRecord[] }
  /** UploadDone: `records` are the last and re-finished ones; `names` every record the IOC has now. */
  | { readonly kind: 'done'; readonly records: readonly IocRecord[]; readonly names: ReadonlySet<string> }
  /** A frame was refused (logged), the session goes on. */
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'pong'; readonly nonce: number };

/** Limits that keep one IOC from taking the bridge's memory. */
export interface SessionLimits {
  readonly maxRecords: number;
  readonly maxInfosPerRecord: number;
  readonly maxEnvironment: number;
  readonly maxAliasesPerRecord: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxRecords: 2_000_000, maxInfosPerRecord: 256, maxEnvironment: 512, maxAliasesPerRecord: 256,
};

interface Building {
  readonly recid: number;
  name: string;
  type: string;
  desc: string | undefined;
  infos: Record<string, string>;
  aliases: string[];
  finished: boolean;
}

/** The session of one connection; `receive` throws PVS_PROTOCOL_REMOTE when the IOC breaks the protocol. */
export class RecCasterSession {
  private current: SessionState = 'greeting';
  private readonly env: Record<string, string> = {};
  private readonly records = new Map<number, Building>();
  private open: Building | null = null;
  private late = new Set<Building>();
  private identified = false;

  constructor(private readonly peerAddress: string, private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS) {}

  /** The current state. */
  get state(): SessionState {
    return this.current;
  }

  /** Apply one message; returns what to do. */
  receive(msg: ClientMessage): SessionEffect[] {
    if (msg.kind === 'Refused') return [{ kind: 'refused', reason: msg.reason }];
    const next = TABLE[this.current][msg.kind];
    if (next === undefined) {
      const was = this.current;
      this.current = 'closed';
      throw new PvsError('PVS_PROTOCOL_REMOTE', `IOC sent ${msg.kind} in state ${was}`);
    }
    const out: SessionEffect[] = [];
    const leavingEnv = this.current === 'environment' && next !== 'environment';
    this.current = next;
    if (leavingEnv && !this.identified) {
      this.identified = true;
      out.push({ kind: 'identity', identity: this.identity() });
    }
    switch (msg.kind) {
      case 'ClientGreet':
        if (msg.version !== 0) {
          this.current = 'closed';
          throw new PvsError('PVS_PROTOCOL_REMOTE', `IOC speaks protocol version ${msg.version} (expected 0)`);
        }
        break;
      case 'Pong':
        out.push({ kind: 'pong', nonce: msg.nonce });
        break;
      case 'AddInfo':
        this.addInfo(msg.recid, msg.key, msg.value, out);
        break;
      case 'AddRecord':
        this.addRecord(msg.recid, msg.alias, msg.type, msg.name, out);
        break;
      case 'DelRecord':
        this.records.delete(msg.recid);
        break;
      case 'UploadDone': {
        const last: IocRecord[] = [];
        if (this.open !== null) this.finish(this.open, last);
        this.open = null;
        for (const b of this.late) if (this.records.get(b.recid) === b) last.push(toRecord(b));
        this.late.clear();
        const names = new Set<string>();
        for (const b of this.records.values()) names.add(b.name);
        out.push({ kind: 'done', records: last, names });
        break;
      }
      default:
        msg satisfies never;
    }
    return out;
  }

  private identity(): IocIdentity {
    const hostName = this.env['HOSTNAME'] || this.peerAddress;
    const iocName = this.env['IOCNAME'] || this.env['IOC'] || this.peerAddress;
    return { iocId: iocIdOf(iocName, hostName), iocName, hostName, iocIP: this.peerAddress, env: { ...this.env } };
  }

  private addInfo(recid: number, key: string, value: string, out: SessionEffect[]): void {
    if (recid === 0) {
      if (this.current !== 'environment') {
        out.push({ kind: 'refused', reason: `IOC-wide info ${key} after the first record ignored` });
      } else if (Object.keys(this.env).length >= this.limits.maxEnvironment && !(key in this.env)) {
        out.push({ kind: 'refused', reason: `more than ${this.limits.maxEnvironment} IOC-wide infos` });
      } else {
        this.env[key] = value;
      }
      return;
    }
    const b = this.records.get(recid);
    if (b === undefined) {
      out.push({ kind: 'refused', reason: `AddInfo for unknown record id ${recid}` });
      return;
    }
    if (key === 'recordDesc') b.desc = value;
    else if (Object.keys(b.infos).length >= this.limits.maxInfosPerRecord && !(key in b.infos)) {
      out.push({ kind: 'refused', reason: `more than ${this.limits.maxInfosPerRecord} info tags on one record` });
      return;
    } else b.infos[key] = value;
    if (b.finished) this.late.add(b);
  }

  private addRecord(recid: number, alias: boolean, type: string, name: string, out: SessionEffect[]): void {
    if (alias) {
      const b = this.records.get(recid);
      if (b === undefined) {
        out.push({ kind: 'refused', reason: `alias for unknown record id ${recid}` });
        return;
      }
      if (b.aliases.length >= this.limits.maxAliasesPerRecord) {
        out.push({ kind: 'refused', reason: `more than ${this.limits.maxAliasesPerRecord} aliases on one record` });
        return;
      }
      if (!b.aliases.includes(name)) b.aliases.push(name);
      if (b.finished) this.late.add(b);
      return;
    }
    if (this.records.size >= this.limits.maxRecords && !this.records.has(recid)) {
      this.current = 'closed';
      throw new PvsError('PVS_PROTOCOL_REMOTE', `IOC sent more than ${this.limits.maxRecords} records`);
    }
    const finished: IocRecord[] = [];
    if (this.open !== null) this.finish(this.open, finished);
    const b: Building = { recid, name, type, desc: undefined, infos: {}, aliases: [], finished: false };
    this.records.set(recid, b);
    this.open = b;
    if (finished.length > 0) out.push({ kind: 'records', records: finished });
  }

  private finish(b: Building, into: IocRecord[]): void {
    b.finished = true;
    if (this.records.get(b.recid) === b) into.push(toRecord(b)); // a record deleted while open is never written
  }
}

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A record in the parser's shape, so the bridge stores it exactly as the uploader does (toStoredRecord). Infos and
 * aliases are shared, not copied: the receiver encodes the record at once, and a later change is handed out again.
 */
function toRecord(b: Building): IocRecord {
  return { name: b.name, type: b.type, fields: b.desc !== undefined ? { DESC: b.desc } : NO_FIELDS, infos: b.infos, aliases: b.aliases };
}
