import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { runStepped, SCAN_STEP } from '../../../src/adapters/http/stepped.js';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { alive, info, rec } from '../directory/build-events.js';

const A = 'IOCA@host-a';
const CHANNELS = 3 * SCAN_STEP; // a scan of every name takes three steps
const HOSTILE = encodeURIComponent('?*'.repeat(10) + 'Q');

describe('HTTP app: long scans run in steps', () => {
  let app: ReturnType<typeof buildApp>;

  beforeAll(() => {
    const d = new Directory({ owner: 'cf' });
    const events: DirectoryEvent[] = [info(A), alive(A)];
    for (let i = 0; i < CHANNELS; i++) events.push(rec(A, `SR${i % 97}:DEV${i}`));
    d.apply(events, 2);
    app = buildApp({
      directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: { connected: true }, revision: 2 }),
      serviceInfo: { version: '0.1.0', backend: () => ({ status: 'Connected', clusterName: 'etcd', version: '3.4.23' }) },
      limits: { defaultSize: 10_000, maxSize: 50_000 },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('runStepped yields to the event loop between steps, not before the first', async () => {
    const seen: string[] = [];
    let left = 3;
    const done = runStepped({ step: (budget) => {
      seen.push(`step ${budget}`);
      return --left === 0 ? 'answer' : null;
    } }, 5);
    setImmediate(() => seen.push('other'));
    expect(await done).toBe('answer');
    expect(seen).toEqual(['step 5', 'step 5', 'other', 'step 5']);
  });

  it('an ordinary query sent after a scan of every name is answered before it', async () => {
    const order: string[] = [];
    const ask = (label: string, query: string): Promise<unknown> =>
      app.inject({ method: 'GET', url: `/ChannelFinder/resources/channels${query}` }).then((r) => {
        expect(r.statusCode).toBe(200);
        order.push(label);
        return r.json();
      });
    const [slow, count, fast] = await Promise.all([
      ask('hostile glob', `?~name=${HOSTILE}`),
      ask('hostile count', `/count?~name=${HOSTILE}`),
      ask('ordinary', '?~name=SR5:DEV5'),
    ]);
    expect(slow).toEqual([]);
    expect(count).toBe(0);
    expect(fast).toEqual([expect.objectContaining({ name: 'SR5:DEV5' })]);
    expect(order[0]).toBe('ordinary');
  });
});
