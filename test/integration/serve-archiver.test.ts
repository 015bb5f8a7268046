/**
 * `pvsync serve` as archiver clients see it: one real agent process holds the election; the server's HTTP routes
 * report it and send `/archiver/mgmt/…` to its published URL, so clients keep one address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdArchiverService } from '../../src/adapters/etcd/archiver-ops.js';
import { archiverRoutes } from '../../src/adapters/http/archiver-routes.js';
import { PvsError } from '../../src/core/errors.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

describe('archiver routes of pvsync serve against a real agent', () => {
  const root = uniqueRoot('serve-archiver');
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-serve-archiver-'));
  let client: Etcd3;
  let app: FastifyInstance;
  let agent: PvsyncProcess | undefined;

  beforeAll(async () => {
    client = etcdClient();
    app = Fastify();
    await app.register(archiverRoutes, {
      service: new EtcdArchiverService(client, root), defaultGroup: 'g1',
      authorizeSwitchover: async (request) => {
        if (request.headers.authorization !== `Basic ${Buffer.from('admin:adminPass').toString('base64')}`) throw new PvsError('PVS_AUTH', 'admin only');
      },
    });
  });

  afterAll(async () => {
    agent?.child.kill('SIGKILL');
    await app.close();
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has no active node before any agent runs', async () => {
    const r = await app.inject({ method: 'GET', url: '/archiver/mgmt/bpl/ping' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ code: 'PVS_ARCHIVER_NO_ACTIVE' });
  });

  it('reports the elected node and redirects archiver clients to it', async () => {
    agent = startPvsync(['archiver-agent', '--node', 'arch-a', '--group', 'g1', '--root', root, '--ttl', '2',
      '--endpoints', testEndpoints().join(','), '--start', `touch ${join(dir, 'started')}`, '--stop', 'true',
      '--mgmt-url', 'http://arch-a.example:17665/mgmt', '--retrieval-url', 'http://arch-a.example:17668/retrieval']);
    await until('agent active', async () => {
      const r = await app.inject({ method: 'GET', url: '/api/v1/archiver/status' });
      return r.statusCode === 200 && JSON.stringify(r.json()).includes('"role":"active"');
    });
    const status = (await app.inject({ method: 'GET', url: '/api/v1/archiver/status' })).json<{ nodes: { node: string; role: string; token: string | null }[] }>();
    const a = status.nodes.find((n) => n.node === 'arch-a');
    expect(a?.role).toBe('active');
    expect(a?.token).toMatch(/^[1-9][0-9]*$/);
    const r = await app.inject({ method: 'GET', url: '/archiver/mgmt/bpl/getPVStatus?pv=LINAC:BPM01:X' });
    expect(r.statusCode).toBe(307);
    expect(r.headers.location).toBe('http://arch-a.example:17665/mgmt/bpl/getPVStatus?pv=LINAC:BPM01:X');
  });

  it('refuses an anonymous switchover with 401 and leaves the active node in place', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/archiver/switchover', payload: {} });
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic/);
    const status = (await app.inject({ method: 'GET', url: '/api/v1/archiver/status' })).json<{ active: { node: string } | null }>();
    expect(status.active?.node).toBe('arch-a');
    // Authorized, with no other node to hand over to: refused by the election (409), not by auth.
    const ok = await app.inject({ method: 'POST', url: '/api/v1/archiver/switchover', payload: {},
      headers: { authorization: `Basic ${Buffer.from('admin:adminPass').toString('base64')}` } });
    expect(ok.statusCode).toBe(409);
  });

  it('has no active node again once the agent stops gracefully', async () => {
    const a = agent!;
    a.child.kill('SIGTERM');
    await a.exited;
    await until('no active node', async () => (await app.inject({ method: 'GET', url: '/archiver/mgmt/bpl/ping' })).statusCode === 503);
  });
});
