/**
 * `GET /api/v1/watch?QUERY`: a Server-Sent Events stream of the channels matching a ChannelFinder query that change.
 * Every event carries its etcd revision as the SSE id; a client that reconnects with `Last-Event-ID` gets every
 * revision after it exactly once, replayed from the change journal, or a `reset` event (re-list) when the journal no
 * longer reaches back that far. Events: `sync` (on connect), `change`, `progress` (heartbeat), `reset`.
 * Streams are capped per client address and in total (429 with Retry-After); closing the app ends every stream.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PvsError } from '../../core/errors.js';
import type { CfChannel } from '../../core/model.js';
import type { QueryLimits } from '../../core/query/parse-query.js';
import type { ChangeJournal } from '../../core/watch/journal.js';
import { queryOf } from './channel-routes.js';
import { cleanChannel } from './cf-serialize.js';
import type { DirectoryReader } from './directory-reader.js';
import { NO_TARPIT, type Tarpit } from './tarpit.js';

/** A listener of applied revisions: changed names, or null when anything may have changed (re-list). */
export type ChangeListener = (revision: number, names: readonly string[] | null) => void;

/** What the watch stream follows. */
export interface WatchDeps {
  readonly journal: ChangeJournal;
  /** Add a listener of applied revisions; returns its removal. */
  subscribe(listener: ChangeListener): () => void;
  /** True once this replica has applied `revision`, false after `timeoutMs` (a resume from a replica that was ahead). */
  waitFor(revision: number, timeoutMs: number): Promise<boolean>;
  /** etcd's current revision: a `Last-Event-ID` beyond it is refused at once (400) instead of waited for. */
  etcdRevision?(): Promise<number>;
  /** Settles once the journal reaches back as far as it will after a start (resumes from before it wait for it). */
  journalReady?(): Promise<void>;
  /** Interval of `progress` events in ms (default 15 000). */
  readonly heartbeatMs?: number;
  /** Open streams allowed in total (default 1 000) and per client address (default 16); beyond: 429 (through the app's tarpit). */
  readonly maxStreams?: number;
  readonly maxStreamsPerClient?: number;
  /** Longest a resume waits for this replica to reach its `Last-Event-ID`, then 503 (default 10 000 ms). */
  readonly aheadWaitMs?: number;
}

// A client that lets this much pile up unread is dropped; it resumes with Last-Event-ID.
const MAX_BUFFERED = 64 * 2 ** 20;
// A stream slot frees when a client goes; no way to know when. Long enough not to invite a reconnect storm.
const RETRY_AFTER_S = 5;

/** Register the watch route. */
export function registerWatchRoute(app: FastifyInstance, directory: DirectoryReader, deps: WatchDeps, limits: QueryLimits,
  hold: Tarpit = NO_TARPIT): void {
  const maxTotal = deps.maxStreams ?? 1000;
  const maxPerClient = deps.maxStreamsPerClient ?? 16;
  const aheadMs = deps.aheadWaitMs ?? 10_000;
  const perClient = new Map<string, number>();
  let total = 0;
  const streams = new Set<() => void>();
  // On close (SIGTERM): end every stream, so the server can close; clients resume with Last-Event-ID elsewhere or later.
  app.addHook('preClose', (done) => {
    for (const end of [...streams]) end();
    done();
  });

  const refuse = async (reply: FastifyReply, message: string): Promise<never> => {
    reply.header('retry-after', String(RETRY_AFTER_S));
    await hold();
    throw new PvsError('PVS_RATE_LIMITED', message, { retryable: true });
  };

  app.get('/api/v1/watch', async (request, reply) => {
    const q = queryOf(request.query, { ...limits, maxSize: Number.MAX_SAFE_INTEGER });
    const header = request.headers['last-event-id'];
    const lastId = typeof header === 'string' && /^\d+$/.test(header.trim()) ? Number(header.trim()) : null;
    const client = request.ip;
    const mine = perClient.get(client) ?? 0;
    if (total >= maxTotal) return refuse(reply, `this server has its maximum of ${maxTotal} watch streams open`);
    if (mine >= maxPerClient) return refuse(reply, `${client} has its maximum of ${maxPerClient} watch streams open`);
    // Counted from here, through the wait below, until the stream ends.
    total++;
    perClient.set(client, mine + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      total--;
      const n = (perClient.get(client) ?? 1) - 1;
      if (n <= 0) perClient.delete(client);
      else perClient.set(client, n);
    };
    try {
      if (lastId !== null && lastId > directory.revision) await catchUp(lastId);
      if (lastId !== null && lastId < deps.journal.floor && deps.journalReady !== undefined) {
        await Promise.race([deps.journalReady(), new Promise((r) => setTimeout(r, aheadMs).unref())]);
      }
    } catch (err) {
      release();
      throw err;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
      'access-control-allow-origin': '*', 'x-accel-buffering': 'no',
    });
    // Node sends the head with the first write: a resume with nothing to replay would not even see its 200.
    res.flushHeaders();
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
      streams.delete(close);
      release();
      // The stream was the connection's last response: free the socket too (a shutdown waits for every socket).
      // inject()'s stand-in socket has no destroySoon.
      res.end(() => request.raw.socket.destroySoon?.());
    }
    streams.add(close);
    request.raw.on('close', close);
    res.on('close', close);
  });

  // A resume from a replica that was ahead: wait boundedly for this one; an id etcd has not reached is refused.
  async function catchUp(lastId: number): Promise<void> {
    const etcd = deps.etcdRevision === undefined ? null : await deps.etcdRevision().catch(() => null);
    if (etcd !== null && lastId > etcd) {
      throw new PvsError('PVS_BAD_REQUEST', `Last-Event-ID ${lastId} is beyond etcd's current revision ${etcd}: `
        + 'resume from an id a stream sent, or connect without Last-Event-ID');
    }
    if (!(await deps.waitFor(lastId, aheadMs))) {
      throw new PvsError('PVS_MIRROR_TIMEOUT', `this replica has not reached revision ${lastId} within ${aheadMs} ms `
        + `(it is at ${directory.revision}); retry, or resume on another replica`, { retryable: true });
    }
  }
}
