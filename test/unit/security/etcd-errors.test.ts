// etcd's refusals get their own codes, not "etcd unavailable", and 5xx bodies never carry etcd's text.
import { BrokenCircuitError } from 'cockatiel';
import Fastify from 'fastify';
import {
  EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCResourceExhastedError,
  GRPCUnavailableError,
} from 'etcd3';
import { describe, expect, it } from 'vitest';
import { isEtcdRefusal, wrapEtcdError } from '../../../src/adapters/etcd/errors.js';
import { publicMessage, sendError } from '../../../src/adapters/http/error-reply.js';
import { ERROR_CODES, PvsError } from '../../../src/core/errors.js';

// What etcd3/grpc-js really report (seen against etcd 3.4.23 with --client-cert-auth).
const BAD_CERT = '14 UNAVAILABLE: No connection established. Last error: 803C4461477F0000:error:0A000412:SSL routines:'
  + 'ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42';
const NO_CA = '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate.';

describe('etcd error codes', () => {
  it.each([
    ['permission denied', new EtcdPermissionDeniedError('7 PERMISSION_DENIED: etcdserver: permission denied'), 'PVS_ETCD_DENIED', false],
    ['a wrong password', new EtcdAuthenticationFailedError('3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password'), 'PVS_ETCD_AUTH', false],
    ['no client certificate', new GRPCUnavailableError(BAD_CERT), 'PVS_ETCD_TLS', false],
    ['an unknown server CA', new GRPCUnavailableError(NO_CA), 'PVS_ETCD_TLS', false],
    ['a request too large', new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: grpc: received message larger than max (2097172 vs. 2097152)'), 'PVS_ETCD_TOO_LARGE', false],
    ['etcd\'s own size limit', new Error('etcdserver: request is too large'), 'PVS_ETCD_TOO_LARGE', false],
    ['an outage', new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED'), 'PVS_ETCD_UNAVAILABLE', true],
    ['a deadline', new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'), 'PVS_ETCD_UNAVAILABLE', true],
    ['every member isolated', new BrokenCircuitError('etcd member http://127.0.0.1:2379 is isolated'), 'PVS_ETCD_UNAVAILABLE', true],
    ['rate limiting', new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: etcdserver: too many requests'), 'PVS_ETCD_UNAVAILABLE', true],
  ])('classifies %s', (_what, err, code, retryable) => {
    const e = wrapEtcdError(err, 'op');
    expect({ code: e.code, retryable: e.retryable }).toEqual({ code, retryable });
    expect(e.cause).toBe(err);
    expect(isEtcdRefusal(e)).toBe(!retryable);
    if (!retryable) expect(e.message).not.toMatch(/unavailable/i);
  });

  it('names the TLS problem without OpenSSL\'s text', () => {
    expect(wrapEtcdError(new GRPCUnavailableError(BAD_CERT), 'range').message)
      .toBe('range: the TLS handshake with etcd failed (etcd refused our client certificate: none given, or not signed by the CA etcd trusts)');
  });

  it('sends our message in 5xx bodies, only the code\'s meaning for a wrapped foreign error', async () => {
    const wrapped = wrapEtcdError(new GRPCUnavailableError(BAD_CERT), 'range /pvsync/v1/');
    expect(publicMessage(wrapped)).toBe(ERROR_CODES.PVS_ETCD_TLS);
    expect(publicMessage(new PvsError('PVS_ETCD_UNAVAILABLE', 'the mirror lags'))).toBe('the mirror lags');
    expect(publicMessage(new Error('boom at 10.0.0.1'))).toBe('internal error');
    const app = Fastify();
    // The same for etcd codes answered with 4xx (410 compacted): etcd's sentence stays in the log.
    app.get('/y', async (req, reply) => sendError(wrapEtcdError(new Error('etcdserver: mvcc: required revision has been compacted'), 'range'), req, reply));
    app.get('/x', async (req, reply) => sendError(wrapEtcdError(new GRPCUnavailableError('14 UNAVAILABLE: etcd-2 10.1.2.3:22379 gone'), 'write'), req, reply));
    const r = await app.inject({ url: '/x' });
    expect(r.statusCode).toBe(503);
    expect(r.body).not.toMatch(/10\.1\.2\.3|14 UNAVAILABLE|etcd-2/);
    expect(r.json()).toMatchObject({ message: ERROR_CODES.PVS_ETCD_UNAVAILABLE });
    const y = await app.inject({ url: '/y' });
    expect(y.statusCode).toBe(410);
    expect(y.json()).toMatchObject({ message: ERROR_CODES.PVS_ETCD_COMPACTED });
    await app.close();
  });
});
