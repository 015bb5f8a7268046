/**
 * The takeover/switchover timeline of an archiver group from etcd's history of the group's keys (as far back as
 * etcd still holds it: the local cluster auto-compacts to the last 10 000 revisions). One prefix watch started at
 * the oldest readable revision replays the history; core/election/timeline.ts says what it means. Answers are
 * cached for a moment per group so that repeated readers (every open console) cost one replay.
 */
import type { Etcd3, IEvent, IWatchResponse } from 'etcd3';
import { ArchiverKeys } from '../../core/election/keys.js';
import {
  ActiveValueSchema, LeaderValueSchema, NodeStatusSchema, SwitchoverRequestSchema,
} from '../../core/election/records.js';
import { buildTimeline, type GroupEvent, type GroupTimeline } from '../../core/election/timeline.js';
import { wrapEtcdError } from './errors.js';
import { oldestReadable } from './history-replay.js';

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Decode one etcd event of the group; null for anything it does not know or cannot read. */
function toEvent(keys: ArchiverKeys, ev: IEvent): GroupEvent | null {
  const k = keys.parse(ev.kv.key.toString('utf8'));
  if (k === null) return null;
  const revision = Number(ev.kv.mod_revision);
  const del = ev.type === 'Delete';
  const raw = del ? null : parseJson(ev.kv.value);
  switch (k.kind) {
    case 'leader': {
      const v = del ? null : LeaderValueSchema.safeParse(raw).data;
      return v === undefined ? null : { kind: 'leader', revision, token: String(ev.kv.create_revision), value: v };
    }
    case 'active': {
      const v = del ? null : ActiveValueSchema.safeParse(raw).data;
      return v === undefined ? null : { kind: 'active', revision, value: v };
    }
    case 'switchover': {
      const v = del ? null : SwitchoverRequestSchema.safeParse(raw).data;
      return v === undefined ? null : { kind: 'switchover', revision, value: v };
    }
    case 'node': {
      const v = del ? null : NodeStatusSchema.safeParse(raw).data;
      return v === undefined ? null : { kind: 'node', revision, node: k.node, value: v };
    }
    default:
      return k satisfies never;
  }
}

/** Replay the group's history from etcd and build its timeline. */
export async function readTimeline(client: Etcd3, root: string, group: string, deadlineMs = 3000): Promise<GroupTimeline> {
  const keys = new ArchiverKeys(group, root);
  let now;
  try {
    now = await client.getAll().prefix(keys.prefix).exec();
  } catch (err) {
    throw wrapEtcdError(err, 'archiver timeline');
  }
  const hi = Number(now.header.revision);
  // Every key's last change must be seen before the replay may end (a later delete is caught by the quiet wait).
  const lastMod = new Map<string, number>();
  for (const kv of now.kvs) lastMod.set(kv.key.toString('utf8'), Number(kv.mod_revision));
  const lo = await oldestReadable(client, keys.active, 1, hi);
  const events: GroupEvent[] = [];
  // The group as it stood at the oldest readable revision, then every change after it.
  let first;
  try {
    first = await client.getAll().prefix(keys.prefix).revision(lo).exec();
  } catch (err) {
    throw wrapEtcdError(err, 'archiver timeline');
  }
  const initial = [...first.kvs].sort((a, b) => Number(a.mod_revision) - Number(b.mod_revision));
  for (const kv of initial) {
    const e = toEvent(keys, { type: 'Put', kv } as IEvent);
    if (e !== null) events.push(e);
  }
  for (const [k, rev] of lastMod) if (rev <= lo) lastMod.delete(k);
  const watcher = await client.watch().prefix(keys.prefix).startRevision(String(lo + 1)).create();
  try {
    await new Promise<void>((resolve, reject) => {
      let quiet: NodeJS.Timeout | undefined;
      const end = setTimeout(resolve, deadlineMs);
      const settle = (): void => {
        clearTimeout(quiet);
        quiet = setTimeout(() => { clearTimeout(end); resolve(); }, 150);
      };
      watcher.on('error', (err: Error) => {
        clearTimeout(end);
        clearTimeout(quiet);
        reject(wrapEtcdError(err, 'archiver timeline'));
      });
      watcher.on('data', (res: IWatchResponse) => {
        let past = false;
        for (const ev of res.events as IEvent[]) {
          const rev = Number(ev.kv.mod_revision);
          if (rev > hi) {
            past = true;
            break;
          }
          const key = ev.kv.key.toString('utf8');
          if (lastMod.get(key) === rev) lastMod.delete(key);
          const e = toEvent(keys, ev);
          if (e !== null) events.push(e);
        }
        if (past) {
          clearTimeout(end);
          clearTimeout(quiet);
          resolve();
        } else if (lastMod.size === 0) {
          settle();
        }
      });
      if (lastMod.size === 0) settle();
    });
  } finally {
    await watcher.cancel().catch(() => undefined);
  }
  return { group, fromRevision: lo, revision: hi, entries: buildTimeline(events) };
}

/**
 * readTimeline with answers kept `ttlMs` per group, and one replay at a time in all: anyone may ask for any group
 * name, and a flood of names then only delays other timeline readers (not the server, nor etcd).
 */
export class TimelineReader {
  private readonly cache = new Map<string, { at: number; value: Promise<GroupTimeline> }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: Etcd3, private readonly root: string, private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now) {}

  /** The timeline of `group`, at most ttlMs old. */
  read(group: string): Promise<GroupTimeline> {
    const hit = this.cache.get(group);
    if (hit !== undefined && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.queue.then(() => readTimeline(this.client, this.root, group));
    this.queue = value.catch(() => undefined);
    this.cache.set(group, { at: this.now(), value });
    value.catch(() => this.cache.delete(group));
    if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}
