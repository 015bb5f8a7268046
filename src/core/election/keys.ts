/**
 * Keys of the archiver election (docs/keyspace.md, "Archiver election"): everything of one archiver group lives
 * under `<root>archiver/<group>/`, so one prefix watch per agent sees leader, active node, node status and requests.
 */
import { ROOT, escapeSegment, unescapeSegment } from '../keyspace.js';

/** Builds and classifies the keys of one archiver group. */
export class ArchiverKeys {
  /** `<root>archiver/<group>/`: prefix of every key of the group. */
  readonly prefix: string;

  constructor(readonly group: string, readonly root: string = ROOT) {
    if (!root.endsWith('/')) throw new Error(`keyspace root must end with '/': ${root}`);
    if (group === '') throw new Error('archiver group name must not be empty');
    this.prefix = `${root}archiver/${escapeSegment(group)}/`;
  }

  /** `…/leader`: the election key, bound to the leader's lease; its create revision is the fencing token. */
  get leader(): string { return `${this.prefix}leader`; }
  /** `…/active`: the active node and its endpoints, written only after its start hooks succeeded (leased). */
  get active(): string { return `${this.prefix}active`; }
  /** `…/switchover`: a pending graceful handover request (short lease). */
  get switchover(): string { return `${this.prefix}switchover`; }
  /** `…/nodes/`: prefix of the per-node status keys. */
  get nodesPrefix(): string { return `${this.prefix}nodes/`; }
  /** `…/nodes/<node>`: one agent's status (role, health, since, token), bound to its lease. */
  node(name: string): string { return `${this.nodesPrefix}${escapeSegment(name)}`; }

  /** Classify a key of this group; `null` for anything else. */
  parse(key: string): ArchiverKey | null {
    if (!key.startsWith(this.prefix)) return null;
    const rest = key.slice(this.prefix.length);
    if (rest === 'leader' || rest === 'active' || rest === 'switchover') return { kind: rest };
    if (rest.startsWith('nodes/')) {
      const seg = rest.slice('nodes/'.length);
      if (seg !== '' && !seg.includes('/')) return { kind: 'node', node: unescapeSegment(seg) };
    }
    return null;
  }
}

/** What a key of an archiver group designates. */
export type ArchiverKey =
  | { readonly kind: 'leader' | 'active' | 'switchover' }
  | { readonly kind: 'node'; readonly node: string };
