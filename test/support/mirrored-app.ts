/**
 * A read-only ChannelFinder app over a mirror of one test keyspace, as `pvsync serve` builds it without writes: its
 * own etcd client on the suite's cluster, a mirror into a directory, and the app (requests through `inject()`).
 */
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { Mirror } from '../../src/adapters/etcd/mirror.js';
import { buildApp } from '../../src/adapters/http/app.js';
import { Directory } from '../../src/core/directory/directory.js';
import type { Keyspace } from '../../src/core/keyspace.js';
import { testEndpoints } from './cluster.js';

/** The started parts and how to stop them. */
export interface MirroredApp {
  readonly client: Etcd3;
  readonly mirror: Mirror;
  readonly app: FastifyInstance;
  stop(): Promise<void>;
}

/** Start a mirror of `keys` (its snapshot loaded) and the app that answers from it. */
export async function startMirroredApp(keys: Keyspace): Promise<MirroredApp> {
  const client = createEtcdClient(testEndpoints());
  const directory = new Directory();
  const mirror = new Mirror({ client, keys, sink: directory, log: pino({ level: 'silent' }) });
  await mirror.start();
  const app = buildApp({
    directory, registry: new Registry(),
    serviceInfo: { version: 'test', backend: () => ({ status: 'Connected' }) },
    health: () => ({ ok: mirror.ready, etcd: 'test', revision: mirror.revision }),
  });
  return {
    client, mirror, app,
    stop: async () => {
      await app.close();
      await mirror.stop();
      client.close();
    },
  };
}
