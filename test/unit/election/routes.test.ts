import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { archiverRoutes, redirectTarget } from '../../../src/adapters/http/archiver-routes.js';
import type { GroupStatus } from '../../../src/core/election/records.js';
import type { ArchiverService } from '../../../src/core/election/service.js';
import { PvsError } from '../../../src/core/errors.js';

const status = (active: GroupStatus['active']): GroupStatus => ({
  group: 'ha', leader: active === null ? null : { node: active.node, token: active.token, since: 1 }, active,
  nodes: [{ node: 'a', role: 'active', healthy: true, checks: [], since: 1, token: '5', updatedAt: 2, endpoints: {} }],
  switchover: null, switchoverRevision: null, revision: '9',
});

function app(svc: Partial<ArchiverService>) {
  const a = Fastify();
  const service: ArchiverService = {
    status: svc.status ?? (async () => status(null)),
    switchover: svc.switchover ?? (async () => { throw new Error('unused'); }),
  };
  // Unit tests of the routes themselves: every caller is authorized (auth is tested in serve-archiver.test.ts).
  void a.register(archiverRoutes, { service, defaultGroup: 'ha', authorizeSwitchover: async () => undefined });
  return a;
}

describe('archiver routes', () => {
  it('GET status returns the group and strips undeclared fields', async () => {
    const s = { ...status({ node: 'a', token: '5', since: 1, endpoints: { mgmt: 'http://a:17665/mgmt' } }), secret: 'x' };
    const res = await app({ status: async () => s }).inject('/api/v1/archiver/status?group=ha');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.active).toEqual({ node: 'a', token: '5', since: 1, endpoints: { mgmt: 'http://a:17665/mgmt' } });
    expect(body.secret).toBeUndefined();
    expect(body.nodes[0].role).toBe('active');
  });

  it('POST switchover passes the target and maps refusals to 409', async () => {
    const seen: Array<string | undefined> = [];
    const a = app({
      switchover: async (group, to) => {
        seen.push(to);
        if (to === 'zz') throw new PvsError('PVS_ARCHIVER_SWITCHOVER', 'no agent named zz');
        return { group, from: 'a', to: to ?? 'b', token: '12', elapsedMs: 150 };
      },
    });
    const ok = await a.inject({ method: 'POST', url: '/api/v1/archiver/switchover', payload: { to: 'b' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ group: 'ha', from: 'a', to: 'b', token: '12', elapsedMs: 150 });
    const bad = await a.inject({ method: 'POST', url: '/api/v1/archiver/switchover', payload: { to: 'zz' } });
    expect(bad.statusCode).toBe(409);
    expect(bad.json().code).toBe('PVS_ARCHIVER_SWITCHOVER');
    const invalid = await a.inject({ method: 'POST', url: '/api/v1/archiver/switchover', payload: { too: 'b' } });
    expect(invalid.statusCode).toBe(400);
    expect(seen).toEqual(['b', 'zz']);
  });

  it('redirects /archiver/… to the active node, keeping path and query', async () => {
    const a = app({ status: async () => status({ node: 'b', token: '7', since: 1, endpoints: { mgmt: 'http://b:17665/mgmt/', dataRetrieval: 'http://b:17668/retrieval' } }) });
    const res = await a.inject('/archiver/mgmt/bpl/getPVStatus?pv=X:Y');
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe('http://b:17665/mgmt/bpl/getPVStatus?pv=X:Y');
    expect(res.headers['x-pvsync-archiver-node']).toBe('b');
    const data = await a.inject('/archiver/data/data/getData.json?pv=X');
    expect(data.headers.location).toBe('http://b:17668/retrieval/data/getData.json?pv=X');
    const none = await a.inject('/archiver/retrieval/bpl/x');
    expect(none.statusCode).toBe(503);
  });

  it('answers 503 while no node is active', async () => {
    const res = await app({}).inject('/archiver/mgmt/bpl/ping');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'Service Unavailable', message: 'no archiver node is active', status: 503, path: '/archiver/mgmt/bpl/ping',
      code: 'PVS_ARCHIVER_NO_ACTIVE',
    });
  });

  it('joins bases and rests without doubling slashes', () => {
    expect(redirectTarget('http://h/mgmt/', '/bpl/ping', '')).toBe('http://h/mgmt/bpl/ping');
    expect(redirectTarget('http://h/mgmt', '', '?a=1')).toBe('http://h/mgmt?a=1');
  });
});
