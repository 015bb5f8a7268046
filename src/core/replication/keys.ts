/**
 * Keys of replication at a target installation (docs/keyspace.md, "Replicas"): the data of source installation S
 * lives under `<root>replicas/<S>/` in the source's own layout (so a Keyspace rooted there reads it), and the
 * replicator of S's data type T keeps its checkpoint and election key under `<root>replication/<S>/<T>/`.
 */
import { DATA_TYPES, type DataType } from '../installations/config.js';
import { escapeSegment, unescapeSegment } from '../keyspace.js';

/** `<root>replicas/`: prefix of every replica held at an installation. */
export function replicasRoot(root: string): string {
  return `${root}replicas/`;
}

/** `<root>replicas/<source>/`: the root of a source installation's replicated data (its own layout below). */
export function replicaRoot(root: string, source: string): string {
  return `${replicasRoot(root)}${escapeSegment(source)}/`;
}

/** `<root>replication/`: prefix of every replicator's checkpoint and election key. */
export function replicationPrefix(root: string): string {
  return `${root}replication/`;
}

/** The source installation whose replica root `key` lies under, with that root; null for any other key. */
export function replicaOf(root: string, key: string): { source: string; root: string } | null {
  const pre = replicasRoot(root);
  if (!key.startsWith(pre)) return null;
  const slash = key.indexOf('/', pre.length);
  if (slash <= pre.length) return null;
  return { source: unescapeSegment(key.slice(pre.length, slash)), root: key.slice(0, slash + 1) };
}

/** The keys of one replication flow (source installation and data type) at its target. */
export class ReplicationKeys {
  /** Where the copied keys go: `<targetRoot>replicas/<source>/`. */
  readonly replicaRoot: string;
  /** `<targetRoot>replication/<source>/<type>/`. */
  readonly prefix: string;

  constructor(readonly sourceRoot: string, readonly targetRoot: string, readonly source: string, readonly type: DataType) {
    this.replicaRoot = replicaRoot(targetRoot, source);
    this.prefix = `${replicationPrefix(targetRoot)}${escapeSegment(source)}/${type}/`;
  }

  /** The checkpoint: the last source revision wholly applied (CheckpointValue JSON), written in the same txn. */
  get checkpoint(): string { return `${this.prefix}checkpoint`; }
  /** The election key of the replicators of this flow, bound to the leader's lease. */
  get leader(): string { return `${this.prefix}leader`; }

  /** The source prefixes of the data type (`<sourceRoot>iocs/`, …). */
  get sourcePrefixes(): string[] {
    return DATA_TYPES[this.type].map((p) => `${this.sourceRoot}${p}`);
  }

  /** The target prefixes the data type is copied to (`<replicaRoot>iocs/`, …). */
  get targetPrefixes(): string[] {
    return DATA_TYPES[this.type].map((p) => `${this.replicaRoot}${p}`);
  }

  /** The target key of a source key of this data type; null for a key outside it. */
  targetKey(sourceKey: string): string | null {
    if (!sourceKey.startsWith(this.sourceRoot)) return null;
    const rest = sourceKey.slice(this.sourceRoot.length);
    return DATA_TYPES[this.type].some((p) => rest.startsWith(p)) ? `${this.replicaRoot}${rest}` : null;
  }

  /** The source key of a target key of this flow; null for a key outside it. */
  sourceKey(targetKey: string): string | null {
    if (!targetKey.startsWith(this.replicaRoot)) return null;
    const rest = targetKey.slice(this.replicaRoot.length);
    return DATA_TYPES[this.type].some((p) => rest.startsWith(p)) ? `${this.sourceRoot}${rest}` : null;
  }
}
