/**
 * `GET /api/v1/archiver/pvs` through buildApp with inject(): the reconciler's selection of the directory, paged,
 * joined with what the active appliance reports for the page's names only; and each way of not reaching one.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { ApplianceReader } from '../../../src/adapters/http/archived-pv-routes.js';
import { Directory } from '../../../src/core/directory/directory.js';
import type { GroupStatus } from '../../../src/core/election/records.js';
import { alive, info, rec } from '../directory/build-events.js';

const IOC = 'VAC@host';
const DOWN = 'BPM@host';

function directory(): Directory {
  const d = new Directory({ owner: 'pvsync', infoWhitelist: ['archive', 'archiver'] });
  const events = [info(IOC), alive(IOC), info(DOWN)];
  for (let i = 0; i < 12; i++) events.push(rec(IOC, `VAC:P${String(i).padStart(2, '0')}`, { infos: { archive: i % 2 === 0 ? 'monitor 1.0' : 'scan@10' } }));
  events.push(rec(IOC, 'VAC:NOARCH'), rec(IOC, 'VAC:BAD', { infos: { archive: 'poll@1' } }));
  events.push(rec(IOC, 'VAC:OTHER', { infos: { archive: 'default', archiver: 'other' } }));
  events.push(rec(DOWN, 'BPM:X', { infos: { archive: 'monitor 0.1' } }));
  d.apply(events, 7);
  return d;
}

function status(active: GroupStatus['active']): GroupStatus {
  return { group: 'komac', leader: null, active, nodes: [], switchover: null, switchoverRevision: null, revision: '9' };
}

const ACTIVE = { node: 'arch-a', token: '41', since: 1_700_000_000_000, endpoints: { mgmt: 'http://arch-a:17665/mgmt' } };

interface Row { name: string; spec: string | null; problem: string | null; iocStatus: string; appliance: { status: string; method?: string; period?: number } | null; next: string | null }
interface Reply {
  group: string; total: number; nextAfter: string | null; pvs: Row[];
  active: { node: string; mgmt: string | null } | null;
  appliance: { reachable: boolean; mgmt: string | null; error: string | null; identity: string | null; startupState: string | null };
}

describe('GET /api/v1/archiver/pvs', () => {
  let app: ReturnType<typeof buildApp> | undefined;
  afterEach(async () => { await app?.close(); });

  /** An app whose appliance archives `archived` (MONITOR 1 s), pauses `paused`, and records what it was asked. */
  function harness(opts: { active?: GroupStatus['active']; state?: string; fail?: 'startup' | 'status'; archived?: string[]; paused?: string[] } = {}) {
    const asked: string[][] = [];
    const urls: string[] = [];
    const reader: ApplianceReader = {
      startupState: async () => {
        if (opts.fail === 'startup') throw new Error('connect ECONNREFUSED 127.0.0.1:17665');
        return opts.state ?? 'STARTUP_COMPLETE';
      },
      pvStatus: async (names) => {
        if (opts.fail === 'status') throw new Error('HTTP 500');
        asked.push([...names]);
        return new Map(names.map((n) => [n, (opts.archived ?? []).includes(n)
          ? { pvName: n, status: 'Being archived', samplingPeriod: '1.0', isMonitored: 'true', appliance: 'komac-arch' }
          : (opts.paused ?? []).includes(n) ? { pvName: n, status: 'Paused', appliance: 'komac-arch' } : { pvName: n, status: 'Not being archived' }]));
      },
    };
    app = buildApp({
      directory: directory(), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 7 }),
      serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
      archiver: {
        service: { status: async () => status(opts.active === undefined ? ACTIVE : opts.active), switchover: async () => { throw new Error('unused'); } },
        defaultGroup: 'komac',
        appliance: (url) => { urls.push(url); return reader; },
      },
    });
    const get = async (q = ''): Promise<{ status: number; body: Reply }> => {
      const r = await app!.inject({ method: 'GET', url: `/api/v1/archiver/pvs${q}` });
      return { status: r.statusCode, body: r.json<Reply>() };
    };
    return { get, asked, urls };
  }

  it('pages the reconciler\'s PVs, asking the active appliance only for the page', async () => {
    const h = harness({ archived: ['VAC:P00', 'VAC:P02'], paused: ['BPM:X'] });
    const first = await h.get('?size=5');
    expect(first.status).toBe(200);
    // 12 VAC:P*, VAC:BAD and BPM:X; VAC:OTHER belongs to another appliance, VAC:NOARCH has no archive tag.
    expect(first.body.total).toBe(14);
    expect(first.body.pvs.map((r) => r.name)).toEqual(['BPM:X', 'VAC:BAD', 'VAC:P00', 'VAC:P01', 'VAC:P02']);
    expect(first.body.nextAfter).toBe('VAC:P02');
    expect(h.asked).toEqual([['BPM:X', 'VAC:BAD', 'VAC:P00', 'VAC:P01', 'VAC:P02']]);
    expect(h.urls).toEqual(['http://arch-a:17665/mgmt']);
    expect(first.body.active).toMatchObject({ node: 'arch-a', mgmt: 'http://arch-a:17665/mgmt' });
    expect(first.body.appliance).toEqual({ mgmt: 'http://arch-a:17665/mgmt', reachable: true, startupState: 'STARTUP_COMPLETE', identity: 'komac-arch', error: null });
    const by = new Map(first.body.pvs.map((r) => [r.name, r]));
    expect(by.get('BPM:X')).toMatchObject({ iocStatus: 'Inactive', appliance: { status: 'Paused' }, next: 'none' });
    expect(by.get('VAC:BAD')).toMatchObject({ spec: null, problem: expect.stringMatching(/poll@1/), next: 'refused' });
    expect(by.get('VAC:P00')).toMatchObject({ spec: 'monitor@1.0', iocStatus: 'Active', appliance: { status: 'Being archived', method: 'MONITOR', period: 1 }, next: 'none' });
    expect(by.get('VAC:P01')).toMatchObject({ spec: 'scan@10.0', appliance: { status: 'Not being archived' }, next: 'archive' });
    expect(by.get('VAC:P02')?.next).toBe('none');

    const names: string[] = [];
    let after: string | null = null;
    do {
      const r = await h.get(`?size=5${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
      names.push(...r.body.pvs.map((p) => p.name));
      after = r.body.nextAfter;
    } while (after !== null);
    expect(names).toHaveLength(14);
    expect(new Set(names).size).toBe(14);
    expect(Math.max(...h.asked.map((a) => a.length))).toBe(5);
  });

  it('filters by name pattern and by the reconciler\'s appliance names', async () => {
    const h = harness();
    expect((await h.get('?name=VAC:P1*')).body.pvs.map((r) => r.name)).toEqual(['VAC:P10', 'VAC:P11']);
    const other = await h.get('?archiver=other&untargeted=false');
    expect(other.body.pvs.map((r) => r.name)).toEqual(['VAC:OTHER']);
    expect((await h.get('?archiver=other')).body.total).toBe(15);
  });

  it('says why no appliance was asked: none active, no mgmt URL, unreachable, starting, failing', async () => {
    const cases = [
      [{ active: null }, /no archiver node is active/, false, null],
      [{ active: { ...ACTIVE, endpoints: {} } }, /arch-a publishes no mgmt URL/, false, null],
      [{ fail: 'startup' }, /arch-a did not answer: connect ECONNREFUSED/, false, null],
      [{ state: 'READY_TO_JOIN_APPLIANCE' }, /starting \(READY_TO_JOIN_APPLIANCE\)/, true, 'READY_TO_JOIN_APPLIANCE'],
      [{ fail: 'status' }, /did not answer getPVStatus: HTTP 500/, false, 'STARTUP_COMPLETE'],
    ] as const;
    for (const [opts, error, reachable, startupState] of cases) {
      const h = harness(opts);
      const r = await h.get('?size=3');
      expect(r.status).toBe(200);
      expect(r.body.appliance.error).toMatch(error);
      expect(r.body.appliance.reachable).toBe(reachable);
      expect(r.body.appliance.startupState).toBe(startupState);
      // The directory's side is still listed; nothing is claimed of the appliance.
      expect(r.body.pvs.map((p) => [p.name, p.appliance, p.next])).toEqual([['BPM:X', null, null], ['VAC:BAD', null, null], ['VAC:P00', null, null]]);
      await app?.close();
      app = undefined;
    }
  });

  it('refuses a bad request naming the field', async () => {
    const h = harness();
    for (const [q, field] of [['?size=0', 'size'], ['?size=501', 'size'], ['?untargeted=maybe', 'untargeted'], ['?nope=1', 'nope']] as const) {
      const r = await h.get(q);
      expect(r.status, q).toBe(400);
      expect(JSON.stringify(r.body), q).toContain(field);
    }
  });
});
