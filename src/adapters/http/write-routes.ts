/**
 * The ChannelFinder write API: PUT/POST/DELETE on `/resources/channels`, `/resources/properties` and
 * `/resources/tags` (docs/api.md). HTTP Basic for every write, 401 for every refusal; every success is 200.
 * Credentials and role are checked in an `onRequest` hook, before the body is read or parsed; password checks are
 * rate-limited per client address (429 with Retry-After).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PvsError } from '../../core/errors.js';
import type { CfChannel } from '../../core/model.js';
import { requireRole, type Principal, type Role } from '../../core/auth/principal.js';
import * as b from '../../core/writes/bodies.js';
import * as ch from '../../core/writes/channel-writes.js';
import type { Changeset } from '../../core/writes/changeset.js';
import * as defs from '../../core/writes/definition-writes.js';
import { cfChannelListSchema } from './cf-schemas.js';
import { cfSerializer } from './cf-serialize.js';
import type { DirectoryReader } from './directory-reader.js';
import { executeWrite, type WriteDeps } from './write-executor.js';

const One = z.object({ name: z.string() });
const Two = z.object({ name: z.string(), channel: z.string() });
const errors = { 400: { $ref: 'errorBody#' }, 401: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' } } as const;

const WHAT: Record<Role, string> = { ADMIN: 'administer', CHANNEL: 'write channels', PROPERTY: 'write properties', TAG: 'write tags' };

// A refused request's body: read and dropped up to this much, so that a client that sends its whole body before
// reading (most do) reads its 401 instead of a reset; a longer one is no longer read, and its connection is cut once
// the client has had LINGER_MS to read the answer (closing a socket with unread data resets it).
const DRAIN_BYTES = 2 ** 20;
const LINGER_MS = 1000;

/** Answer a refused request at once, without reading its body beyond DRAIN_BYTES (never buffered, never parsed). */
function dropBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (raw.readableEnded || (!(declared > 0) && raw.headers['transfer-encoding'] === undefined)) return;
  // Node would close the socket right after the answer if the client asked to: keep it until the body is dealt with.
  reply.raw.shouldKeepAlive = true;
  const socket = raw.socket as Partial<typeof raw.socket> | null;
  let seen = 0;
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen <= DRAIN_BYTES) return;
    // A paused request whose buffer is full stops Node reading the socket: the rest stays with the client.
    raw.off('data', onData);
    raw.pause();
  };
  const timer = setTimeout(() => {
    done();
    socket?.destroy?.();
  }, LINGER_MS);
  timer.unref();
  function done(): void {
    clearTimeout(timer);
    raw.off('data', onData);
  }
  raw.on('data', onData);
  raw.once('end', done);
}

/**
 * Register every write route on the app. Needs @fastify/rate-limit registered on `app` (it limits password checks).
 */
export function registerWriteRoutes(app: FastifyInstance, directory: DirectoryReader, deps: WriteDeps): void {
  const base = '/ChannelFinder/resources';
  const principals = new WeakMap<FastifyRequest, Principal>();
  const limit = deps.loginLimit ?? { max: 10, windowMs: 60_000 };
  const passwordChecks = app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs });
  // Upstream's security filter: credentials, then the role of the endpoint, before the body is even read.
  const guard = (role: Role) => async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      principals.set(request, await check(role, request, reply));
    } catch (err) {
      dropBody(request, reply);
      throw err;
    }
  };
  const check = async (role: Role, request: FastifyRequest, reply: FastifyReply): Promise<Principal> => {
    const p = await deps.authenticate(request.headers.authorization, async () => {
      const r = await passwordChecks(request);
      if (!r.isAllowed && r.isExceeded) {
        reply.header('retry-after', String(Math.max(1, r.ttlInSeconds)));
        throw new PvsError('PVS_RATE_LIMITED', `too many password checks from ${request.ip}: retry in ${r.ttlInSeconds} s`, { retryable: true });
      }
    });
    if (p === null) throw new PvsError('PVS_AUTH', 'authentication required: writes need HTTP Basic credentials');
    return requireRole(p, role, WHAT[role]);
  };
  const onRequest = { CHANNEL: guard('CHANNEL'), PROPERTY: guard('PROPERTY'), TAG: guard('TAG') } as const;
  const run = async (request: FastifyRequest, rule: (cs: Changeset, p: Principal) => ch.WriteResult): Promise<unknown> => {
    const p = principals.get(request);
    if (p === undefined) throw new PvsError('PVS_INTERNAL', 'write route without its authentication hook');
    const result = await executeWrite(directory, deps, (cs) => rule(cs, p));
    return render(result);
  };
  const chans = (names: readonly string[]): CfChannel[] =>
    names.flatMap((n) => directory.get(n) ?? []);
  const definition = (type: 'property' | 'tag', name: string, channels: CfChannel[]): unknown => {
    const owner = (type === 'property' ? directory.propertyDefinition(name) : directory.tagDefinition(name))?.owner ?? '';
    return type === 'property' ? { name, owner, value: null, channels } : { name, owner, channels };
  };
  const render = (r: ch.WriteResult): unknown => {
    switch (r.kind) {
      case 'channel': return directory.get(r.name) ?? null;
      case 'channels': return chans(r.names);
      case 'definition': return definition(r.type, r.name, chans(r.channels));
      case 'definitions': return r.names.map((n) => definition(r.type, n, []));
      case 'single': {
        const c = directory.get(r.channel);
        const bare = [{ name: r.channel, owner: c?.owner ?? '', properties: [], tags: [] }];
        const d = definition(r.type, r.name, bare) as Record<string, unknown>;
        return r.type === 'property' ? { ...d, value: r.value } : d;
      }
      case 'empty': return '';
    }
  };

  const chOpts = { onRequest: onRequest.CHANNEL };
  const channelOpts = { ...chOpts, schema: { response: { 200: { $ref: 'cfChannel#' }, ...errors } }, serializerCompiler: cfSerializer('channel') };
  const listOpts = { ...chOpts, schema: { response: { 200: cfChannelListSchema, ...errors } }, serializerCompiler: cfSerializer('channels') };

  app.put(`${base}/channels/:name`, channelOpts, (rq) =>
    run(rq, (cs, p) => ch.putChannel(cs, p, One.parse(rq.params).name, b.channelBody(rq.body))));
  app.put(`${base}/channels`, listOpts, (rq) =>
    run(rq, (cs, p) => ch.putChannels(cs, p, b.channelListBody(rq.body))));
  app.post(`${base}/channels/:name`, channelOpts, (rq) =>
    run(rq, (cs, p) => ch.postChannel(cs, p, One.parse(rq.params).name, b.channelBody(rq.body))));
  app.post(`${base}/channels`, listOpts, (rq) =>
    run(rq, (cs, p) => ch.postChannels(cs, p, b.channelListBody(rq.body))));
  app.delete(`${base}/channels/:name`, chOpts, (rq) =>
    run(rq, (cs, p) => ch.deleteChannels(cs, p, [One.parse(rq.params).name])));
  app.delete(`${base}/channels`, chOpts, (rq) =>
    run(rq, (cs, p) => ch.deleteChannels(cs, p, b.nameListBody(rq.body))));

  for (const [path, kind] of [['properties', 'property'], ['tags', 'tag']] as const) {
    const one = kind === 'property' ? b.propertyBody : b.tagBody;
    const list = kind === 'property' ? b.propertyListBody : b.tagListBody;
    const shape = { $ref: kind === 'property' ? 'cfProperty#' : 'cfTag#' };
    const kindOpts = { onRequest: onRequest[kind === 'property' ? 'PROPERTY' : 'TAG'] };
    const defOpts = { ...kindOpts, schema: { response: { 200: shape, ...errors } } };
    const defListOpts = { ...kindOpts, schema: { response: { 200: { type: 'array', items: shape }, ...errors } } };
    app.put(`${base}/${path}/:name`, defOpts, (rq) =>
      run(rq, (cs, p) => defs.putDefinition(cs, p, kind, One.parse(rq.params).name, one(rq.body))));
    app.put(`${base}/${path}`, defListOpts, (rq) =>
      run(rq, (cs, p) => defs.putDefinitions(cs, p, kind, list(rq.body))));
    app.post(`${base}/${path}/:name`, defOpts, (rq) =>
      run(rq, (cs, p) => defs.postDefinition(cs, p, kind, One.parse(rq.params).name, one(rq.body))));
    app.post(`${base}/${path}`, defListOpts, (rq) =>
      run(rq, (cs, p) => defs.postDefinitions(cs, p, kind, list(rq.body))));
    app.put(`${base}/${path}/:name/:channel`, defOpts, (rq) => run(rq, (cs, p) => {
      const { name, channel } = Two.parse(rq.params);
      return defs.putOnChannel(cs, p, kind, name, channel, kind === 'property' ? b.propertyBody(rq.body) : undefined);
    }));
    app.delete(`${base}/${path}/:name`, kindOpts, (rq) =>
      run(rq, (cs, p) => defs.deleteDefinition(cs, p, kind, One.parse(rq.params).name)));
    app.delete(`${base}/${path}/:name/:channel`, kindOpts, (rq) => run(rq, (cs, p) => {
      const { name, channel } = Two.parse(rq.params);
      return defs.deleteFromChannel(cs, p, kind, name, channel);
    }));
  }
}
