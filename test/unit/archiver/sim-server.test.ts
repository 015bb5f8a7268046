/**
 * The stand-in's management interface over a real local socket (no database: write-through goes to a list), the
 * BPL client against it, and the reconciler driving it through start-up, an outage and a restart.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BplClient } from '../../../src/adapters/archiver-bpl/bpl-client.js';
import { SimServer } from '../../../src/adapters/archiver-bpl/sim-server.js';
import { ArchiveReconciler } from '../../../src/apps/archive-reconciler.js';
import { SimAppliance, type RowEffect, type StartupState } from '../../../src/core/archiver/sim-appliance.js';
import type { ActiveValue } from '../../../src/core/election/records.js';
import type { CfChannel } from '../../../src/core/model.js';

const servers: SimServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(sim: SimAppliance, state: { v: StartupState }, port = 0): Promise<{ url: string; port: number; rows: RowEffect[] }> {
  const rows: RowEffect[] = [];
  let bound = 0;
  const server = new SimServer({
    sim: () => sim, startupState: () => state.v, now: () => Date.now(),
    persist: async (e) => { rows.push(...e); }, mgmtUrl: () => `http://127.0.0.1:${bound}/mgmt`,
  });
  bound = await server.listen(port);
  servers.push(server);
  return { url: `http://127.0.0.1:${bound}/mgmt`, port: bound, rows };
}

function channel(name: string, archive: string, status: 'Active' | 'Inactive'): CfChannel {
  return {
    name, owner: 'pvsync', tags: [],
    properties: [{ name: 'pvStatus', owner: 'pvsync', value: status, channels: [] }, { name: 'archive', owner: 'pvsync', value: archive, channels: [] }],
  };
}

describe('stand-in appliance over HTTP', () => {
  it('answers 500 on every BPL but ping and startupState until start-up completes', async () => {
    const state = { v: 'POST_STARTUP_RUNNING' as StartupState };
    const { url } = await serve(new SimAppliance('k', [], new Map(), new Map(), Date.now()), state);
    expect(await (await fetch(`${url}/bpl/ping`)).text()).toBe('pong');
    expect(await (await fetch(`${url}/bpl/startupState`)).json()).toEqual({ status: 'POST_STARTUP_RUNNING' });
    for (const bpl of ['getAllPVs', 'getPVStatus?pv=A', 'archivePV?pv=A', 'getPolicyList']) {
      expect((await fetch(`${url}/bpl/${bpl}`)).status, bpl).toBe(500);
    }
    state.v = 'STARTUP_COMPLETE';
    expect((await fetch(`${url}/bpl/getAllPVs`)).status).toBe(200);
  });

  it('takes a JSON body only with Content-Type exactly application/json, and samplingperiod only as a string', async () => {
    const { url, rows } = await serve(new SimAppliance('k', [], new Map(), new Map(), Date.now()), { v: 'STARTUP_COMPLETE' });
    const post = (ct: string, body: unknown): Promise<Response> => fetch(`${url}/bpl/archivePV`, { method: 'POST', headers: { 'Content-Type': ct }, body: JSON.stringify(body) });
    expect((await post('application/json; charset=utf-8', [{ pv: 'A' }])).status).toBe(400);
    expect((await post('application/json', [{ pv: 'A', samplingperiod: 1 }])).status).toBe(500);
    const ok = await post('application/json', [{ pv: 'A', samplingmethod: 'SCAN', samplingperiod: '2' }]);
    expect(await ok.json()).toEqual([{ pvName: 'A', status: 'Archive request submitted' }]);
    expect(await (await post('application/json', [{ pv: 'A' }])).json()).toEqual([{ pvName: 'A', status: 'Already submitted' }]);
    expect(rows).toEqual([{ kind: 'putRequest', pvName: 'A', params: { samplingMethod: 'SCAN', samplingPeriod: 2 } }]);
  });

  it('the client reads status in batches and getAllPVs beyond 500', async () => {
    const sim = new SimAppliance('k', [], new Map(), new Map(), 0, 0);
    sim.archive(Array.from({ length: 1200 }, (_, i) => ({ pv: `P${i}` })), 0);
    sim.tick(1);
    const { url } = await serve(sim, { v: 'STARTUP_COMPLETE' });
    const c = new BplClient(url, { batch: 100 });
    expect(await c.startupState()).toBe('STARTUP_COMPLETE');
    expect(await c.ping()).toBe(true);
    const st = await c.pvStatus(Array.from({ length: 1200 }, (_, i) => `P${i}`));
    expect(st.size).toBe(1200);
    expect(st.get('P7')?.status).toBe('Being archived');
    expect((await (await fetch(`${url}/bpl/getAllPVs`)).json() as unknown[]).length).toBe(500);
    expect(await c.allPvs()).toHaveLength(1200);
    expect(await c.pause(['P1'])).toEqual([{ pvName: 'P1', status: 'ok' }]);
    await expect(c.change({ pv: 'P2', samplingmethod: 'SCAN', samplingperiod: '3.0' })).resolves.toMatchObject({ status: 'ok' });
    expect((await c.pvStatus(['P2'])).get('P2')).toMatchObject({ samplingPeriod: '3.0', isMonitored: 'false' });
  });

  it('the reconciler waits out start-up and an outage, and converges with nothing lost', async () => {
    const state = { v: 'READY_TO_JOIN_APPLIANCE' as StartupState };
    const sim = new SimAppliance('k', [], new Map(), new Map(), Date.now(), 0);
    const first = await serve(sim, state);
    const active: { v: ActiveValue | null } = { v: { node: 'a', token: '5', since: 0, endpoints: { mgmt: first.url } } };
    const r = new ArchiveReconciler({ selector: { names: [], untargeted: true }, passMs: 20, bplTimeoutMs: 500 },
      { active: async () => active.v, log: pino({ level: 'silent' }) });
    const chans = new Map<string, CfChannel>();
    for (let i = 0; i < 50; i++) chans.set(`C${i}`, channel(`C${i}`, i % 2 === 0 ? 'monitor@1' : 'scan@2', 'Active'));
    chans.set('DEAD', channel('DEAD', 'monitor@1', 'Inactive'));
    r.channelsChanged((n) => chans.get(n), null, () => chans.keys());
    const running = r.run();
    const tick = (): void => { sim.tick(Date.now()); };
    const ticker = setInterval(tick, 10);
    try {
      await new Promise((res) => setTimeout(res, 150));
      expect(sim.pvs.size + sim.pendingNames.length).toBe(0); // still starting: nothing was sent
      state.v = 'STARTUP_COMPLETE';
      await waitFor(() => r.converged && sim.pvs.size === 50);
      expect(sim.status('C1')).toMatchObject({ status: 'Being archived', samplingPeriod: '2.0', isMonitored: 'false' });
      expect(sim.status('DEAD').status).toBe('Not being archived');

      // The appliance goes away; changes made meanwhile are applied once it is back (same port).
      await servers[0]?.close();
      servers.splice(0);
      chans.set('C0', channel('C0', 'monitor@1', 'Inactive'));
      chans.set('C1', channel('C1', 'scan@4', 'Active'));
      r.channelsChanged((n) => chans.get(n), ['C0', 'C1'], () => chans.keys());
      await new Promise((res) => setTimeout(res, 300));
      expect(r.stats.failures).toBeGreaterThan(0);
      await serve(sim, state, first.port);
      await waitFor(() => r.converged && sim.status('C0').status === 'Paused');
      expect(sim.status('C1')).toMatchObject({ samplingPeriod: '4.0' });
      expect(r.stats.archived).toBe(50);
    } finally {
      clearInterval(ticker);
      r.stop();
      await running;
    }
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((res) => setTimeout(res, 20));
  }
}
