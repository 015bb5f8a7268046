import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PvsError, isPvsError } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('documents every code in docs/errors.md', () => {
    const documented = new Set([...doc.matchAll(/^\| `(PVS_[A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('keeps code, retryable and cause', () => {
    const cause = new Error('grpc');
    const e = new PvsError('PVS_ETCD_UNAVAILABLE', 'no quorum', { retryable: true, cause });
    expect(e.code).toBe('PVS_ETCD_UNAVAILABLE');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(isPvsError(e, 'PVS_ETCD_UNAVAILABLE')).toBe(true);
    expect(isPvsError(e, 'PVS_QUERY')).toBe(false);
    expect(isPvsError(new Error('x'))).toBe(false);
    expect(new PvsError('PVS_QUERY', 'x').retryable).toBe(false);
  });
});
