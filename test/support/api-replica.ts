/**
 * API replicas for integration tests: each with its own etcd client, mirror, directory and app (as `pvsync serve`
 * builds them), on a test keyspace root, with users of every role. Requests go through `inject()`.
 */
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../../src/adapters/auth/passwords.js';
import { createApiRuntime, mirrorHealth, type ApiRuntime } from '../../src/apps/api-runtime.js';
import type { AuthFile } from '../../src/core/auth/principal.js';
import type { Keyspace } from '../../src/core/keyspace.js';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';

/** Test users: name → [roles, groups]; every password is `NAMEPass`. */
export const TEST_USERS = {
  admin: [['ADMIN'], ['ADMIN']],
  user: [['CHANNEL'], ['USER']],
  prop: [['PROPERTY'], []],
  tagger: [['TAG'], []],
  nobody: [[], []],
  ops: [['CHANNEL'], ['operators']],
} as const;

/** The auth file of TEST_USERS (hashes made once per process). */
let authFile: Promise<AuthFile> | null = null;
export function testAuthFile(): Promise<AuthFile> {
  authFile ??= (async () => {
    const users: AuthFile['users'] = {};
    for (const [name, [roles, groups]] of Object.entries(TEST_USERS)) {
      users[name] = { password: await hashPassword(`${name}Pass`), roles: [...roles], groups: [...groups] };
    }
    return { users };
  })();
  return authFile;
}

/** The Authorization header of a test user. */
export function basic(user: string, password = `${user}Pass`): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A started replica and its own client. */
export interface Replica extends ApiRuntime {
  readonly client: Etcd3;
  stop(): Promise<void>;
}

/** Build and start one replica on `keys`. */
export async function startReplica(
  keys: Keyspace, opts: { heartbeatMs?: number; endpoints?: readonly string[]; maxLagMs?: number } = {},
): Promise<Replica> {
  // cluster.ts needs vitest's state: imported only for the shared test cluster, so benches can use explicit endpoints.
  const client = opts.endpoints === undefined ? (await import('./cluster.js')).etcdClient()
    : createEtcdClient(opts.endpoints, { callTimeoutMs: 5000, dialTimeoutMs: 2000 });
  const rt = createApiRuntime({
    client, keys, log: pino({ level: 'silent' }), registry: new Registry(), auth: await testAuthFile(),
    owner: 'pvsync', limits: { defaultSize: 10_000, maxSize: 1_000_000 },
    ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
    serviceInfo: () => ({ version: 'test', backend: () => ({ status: 'Connected' }) }),
    health: (m) => {
      const h = mirrorHealth(m, client, opts.maxLagMs);
      return { ok: h.ok, etcd: 'test', revision: m.revision, mirror: h.mirror };
    },
  });
  await rt.start();
  return { ...rt, client, stop: async () => { await rt.close(); client.close(); } };
}
