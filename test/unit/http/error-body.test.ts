// One error body for every route: ChannelFinder's {error, message, status, path} (exactly, under /ChannelFinder/),
// the stable code in the body on pvsync's own API, and the code in X-Pvsync-Code on every error reply.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { codeOf, errorBody } from '../../../src/adapters/http/error-reply.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { PvsError } from '../../../src/core/errors.js';

function app(): ReturnType<typeof buildApp> {
  return buildApp({
    directory: new Directory({ owner: 'cf' }), registry: new Registry(), health: () => ({ ok: true, etcd: {}, revision: 1 }),
    serviceInfo: { version: '0.1.0', backend: () => ({ status: 'Connected', clusterName: 'etcd', version: '3.4' }) },
    archiver: {
      defaultGroup: 'g',
      service: {
        status: async () => { throw new PvsError('PVS_ETCD_UNAVAILABLE', 'etcd down', { cause: new Error('14 UNAVAILABLE: h1:2379') }); },
        switchover: async () => { throw new Error('unused'); },
      },
    },
  });
}

describe('error body', () => {
  let a: ReturnType<typeof buildApp> | undefined;
  afterEach(async () => { await a?.close(); });

  it.each([
    ['GET', '/ChannelFinder/resources/channels/nope', 404, 'PVS_NOT_FOUND'],
    ['GET', '/ChannelFinder/resources/channels?~size=abc', 400, 'PVS_QUERY'],
    ['GET', '/ChannelFinder/no/such/route?x=1', 404, 'PVS_NOT_FOUND'],
    ['GET', '/ChannelFinder/resources/channels?~from=-2', 400, 'PVS_QUERY'],
  ])('%s %s: exactly ChannelFinder\'s four fields, the code in the header', async (method, url, status, code) => {
    a = app();
    const r = await a.inject({ method: method as 'GET', url });
    expect(r.statusCode).toBe(status);
    expect(r.headers['x-pvsync-code']).toBe(code);
    expect(Object.keys(r.json() as object).sort()).toEqual(['error', 'message', 'path', 'status']);
    expect(r.json()).toMatchObject({ status, path: url.split('?')[0] });
  });

  it.each([
    ['GET', '/api/v1/no-such-route', undefined, 404, 'PVS_NOT_FOUND'],
    ['GET', '/api/v1/archiver/status', undefined, 503, 'PVS_ETCD_UNAVAILABLE'],
    ['GET', '/api/v1/archiver/status?group=', undefined, 400, 'PVS_BAD_REQUEST'],
    ['POST', '/api/v1/archiver/switchover', { to: 'b' }, 401, 'PVS_AUTH'],
    ['GET', '/archiver/mgmt/bpl/ping', undefined, 503, 'PVS_ETCD_UNAVAILABLE'],
  ])('%s %s: the same body plus its code, also in the header', async (method, url, payload, status, code) => {
    a = app();
    const r = await a.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload }) });
    expect(r.statusCode).toBe(status);
    expect(r.headers['x-pvsync-code']).toBe(code);
    const body = r.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'path', 'status']);
    expect(body).toMatchObject({ status, code, path: url.split('?')[0] });
    // etcd's own words (hosts) never reach a client.
    expect(JSON.stringify(body)).not.toContain('2379');
  });

  it('maps errors that carry no code by their status', () => {
    expect(codeOf(Object.assign(new Error('x'), { statusCode: 413 }))).toBe('PVS_BAD_REQUEST');
    expect(codeOf(Object.assign(new Error('x'), { statusCode: 404 }))).toBe('PVS_NOT_FOUND');
    expect(codeOf(new Error('bug'))).toBe('PVS_INTERNAL');
    expect(errorBody(409, 'PVS_ETCD_CONFLICT', 'm', '/ChannelFinder/resources/tags/t?x')).toEqual({
      error: 'Conflict', message: 'm', status: 409, path: '/ChannelFinder/resources/tags/t',
    });
    expect(errorBody(409, 'PVS_ARCHIVER_SWITCHOVER', 'm', '/api/v1/archiver/switchover')).toEqual({
      error: 'Conflict', message: 'm', status: 409, path: '/api/v1/archiver/switchover', code: 'PVS_ARCHIVER_SWITCHOVER',
    });
  });
});
