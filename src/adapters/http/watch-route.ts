/**
 * `GET /api/v1/watch?QUERY`: a Server-Sent Events stream of the channels matching a ChannelFinder query that change.
 * Every event carries its etcd revision as the SSE id; a client that reconnects with `Last-Event-ID` gets every
 * revision after it exactly once, replayed from the change journal, or a `reset` event (re-list) when the journal no
 * longer reaches back that far. Events: `sync` (on connect), `change`, `progress` (heartbeat), `reset`.
 */
import type { FastifyInstance } from 'fastify';
import type { CfChannel } from '../../core/model.js';
import type { QueryLimits } from '../../core/query/parse-query.js';
import type { ChangeJournal } from '../../core/watch/journal.js';
import { queryOf } from './channel-routes.js';
import { cleanChannel } from './cf-serialize.js';
import type { DirectoryReader } from './directory-reader.js';

/** A listener of applied revisions: changed names, or null when anything may have changed (re-list). */
export type ChangeListener = (revision: number, names: readonly string[] | null) => void;

/** What the watch stream follows. */
export interface WatchDeps {
  readonly journal: ChangeJournal;
  /** Add a listener of applied revisions; returns its removal. */
  subscribe(listener: ChangeListener): () => void;
  /** Resolves once this replica has applied `revision` (a client resuming from a replica that was ahead). */
  waitFor(revision: number): Promise<void>;
  /** Interval of `progress` events in ms (default 15 000). */
  readonly heartbeatMs?: number;
}

// A client that lets this much pile up unread is dropped; it resumes with Last-Event-ID.
const MAX_BUFFERED = 64 * 2 ** 20;
const WAIT_AHEAD_MS = 10_000;

/** Register the watch route. */
export function registerWatchRoute(app: FastifyInstance, directory: DirectoryReader, deps: WatchDeps, limits: QueryLimits): void {
  app.get('/api/v1/watch', async (request, reply) => {
    const q = queryOf(request.query, { ...limits, maxSize: Number.MAX_SAFE_INTEGER });
    const header = request.headers['last-event-id'];
    const lastId = typeof header === 'string' && /^\d+$/.test(header.trim()) ? Number(header.trim()) : null;
    if (lastId !== null && lastId > directory.revision) {
      await Promise.race([deps.waitFor(lastId), new Promise((r) => setTimeout(r, WAIT_AHEAD_MS))]);
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
      'access-control-allow-origin': '*', 'x-accel-buffering': 'no',
    });
    let closed = false;
    const send = (event: string, id: number, data: unknown): void => {
      if (closed) return;
      res.write(`event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
      if (res.writableLength > MAX_BUFFERED) close();
    };
    const nameOk = (name: string): boolean => q.names.every((t) => t.anyOf.some((g) => g.test(name)));
    const emit = (revision: number, names: readonly string[]): void => {
      const match = directory.matcher(q);
      const channels: CfChannel[] = [];
      const removed: string[] = [];
      for (const name of names) {
        const c = match(name) ? directory.get(name) : undefined;
        if (c !== undefined) channels.push(cleanChannel(c));
        else if (nameOk(name)) removed.push(name);
      }
      if (channels.length > 0 || removed.length > 0) send('change', revision, { revision, channels, removed });
    };
    const listener: ChangeListener = (revision, names) => {
      if (names === null) send('reset', revision, { revision, reason: 'the directory was re-listed from etcd' });
      else emit(revision, names);
    };

    // Replay and subscribe in one synchronous step: no revision can slip between them, none comes twice.
    if (lastId === null) {
      send('sync', directory.revision, { revision: directory.revision });
    } else {
      const since = deps.journal.since(lastId);
      if (since.kind === 'reset') {
        send('reset', directory.revision, { revision: directory.revision, reason: `revision ${lastId} is older than the change journal` });
      } else {
        for (const e of since.entries) emit(e.revision, e.names);
      }
    }
    const unsubscribe = deps.subscribe(listener);
    const beat = setInterval(() => send('progress', directory.revision, { revision: directory.revision }), deps.heartbeatMs ?? 15_000);
    function close(): void {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      unsubscribe();
      res.end();
    }
    request.raw.on('close', close);
    res.on('close', close);
  });
}
