import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installOverloadGuard } from '../../../src/adapters/http/overload-guard.js';

describe('overload guard', () => {
  it('answers 503 with Retry-After past the in-flight limit instead of queueing, and admits again after', async () => {
    const app = Fastify();
    installOverloadGuard(app, 2, 3);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    app.get('/slow', async () => {
      await gate;
      return { ok: true };
    });
    app.get('/healthz', () => ({ ok: true }));
    const first = [app.inject('/slow'), app.inject('/slow')];
    await new Promise((r) => setTimeout(r, 50));
    const third = await app.inject('/slow');
    expect(third.statusCode).toBe(503);
    expect(third.headers['retry-after']).toBe('3');
    expect(third.headers['x-pvsync-code']).toBe('PVS_OVERLOADED');
    expect((await app.inject('/healthz')).statusCode).toBe(200); // health checks are never shed
    release();
    expect((await Promise.all(first)).map((r) => r.statusCode)).toEqual([200, 200]);
    expect((await app.inject('/slow')).statusCode).toBe(200);
    await app.close();
  });
});
