/**
 * The console's Installations view in real headless Chromium against a real `pvsync serve --installations` of the
 * secondary of two installations (two keyspace roots of the suite's etcd cluster), with real `pvsync replicate`
 * processes for two of its three flows: the page lists every installation and every data type with its primary and
 * replicas, this server's installation, each replica's lag as the API reports it, the replica nobody replicates and
 * the one held elsewhere; a replicator SIGKILLed during the test makes its replica turn stale on the open page, its
 * lag growing, without a reload. With PVSYNC_SCREENSHOTS=1 it writes docs/console/installations.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { startReplicator, writeInstallations } from '../support/installations.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

interface Report { installation: string; data: { type: string; primary: string; replicas: { installation: string; state: string; lagSeconds: number | null }[] }[] }
interface ReplicaRow { id: string; state: string; lag: string; dead: boolean }

const STATE_LABEL: Record<string, string> = { current: 'current', stale: 'stale', unproven: 'not replicated yet', elsewhere: 'held elsewhere' };

describe('operator console: installations and replication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-console-inst-'));
  const procs: PvsyncProcess[] = [];
  const run = (p: PvsyncProcess): PvsyncProcess => {
    procs.push(p);
    return p;
  };
  let base = '';
  let apiReplicator: PvsyncProcess;
  let chrome: TestBrowser | undefined;
  let launching: Promise<TestBrowser> | undefined;
  let client: Etcd3;
  let publisher: IocPublisher | undefined;

  const report = async (): Promise<Report> => (await (await fetch(`${base}/api/v1/installations`)).json()) as Report;
  const rows = (page: Page): Promise<ReplicaRow[]> => page.locator('tr[data-replica]').evaluateAll((trs) => trs.map((r) => ({
    id: r.getAttribute('data-replica') ?? '', state: r.querySelector('[data-col="state"]')?.textContent?.trim() ?? '',
    lag: r.querySelector('[data-col="lag"]')?.textContent?.trim() ?? '', dead: r.classList.contains('dead'),
  })));
  const row = async (page: Page, id: string): Promise<ReplicaRow | undefined> => (await rows(page)).find((r) => r.id === id);

  beforeAll(async () => {
    launching = launchBrowser();
    launching.catch(() => undefined); // awaited below
    const [aPort, bPort] = await freePorts(2);
    base = `http://127.0.0.1:${bPort}`;
    const a = { name: 'site-a', endpoints: testEndpoints(), root: uniqueRoot('console-inst-a'), api: [`http://127.0.0.1:${aPort}`], networks: ['10.1.0.0/16'] };
    const b = { name: 'site-b', endpoints: testEndpoints(), root: uniqueRoot('console-inst-b'), api: [base], networks: ['10.2.0.0/16'] };
    const file = writeInstallations(dir, a, b, { twoWayIocs: true });
    client = etcdClient();
    // An IOC at the primary, so that its IOC flow carries data.
    publisher = new IocPublisher({
      client, keys: new Keyspace(a.root), iocId: 'vac@host-a', iocName: 'vac', hostName: 'host-a', env: { IOCNAME: 'vac' },
      records: [{ name: 'A:VAC:P1', type: 'ai', fields: {}, infos: {}, aliases: [] }], ttlSeconds: 10, writer: 'console-test', log: pino({ level: 'silent' }),
    });
    await publisher.start();
    // The flow of archiver state is in the file but nobody replicates it: its replica is never proven current.
    run(startPvsync(['serve', '--installations', file, '--installation', b.name, '--port', String(bPort), '--host', '127.0.0.1', '--replica-max-lag', '8']));
    apiReplicator = run(startReplicator(file, 'api', a.name, b.name));
    run(startReplicator(file, 'iocs', a.name, b.name));
    await until('the secondary serves', async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200, 60_000);
    chrome = await launching;
  });

  afterAll(async () => {
    chrome ??= await launching?.catch(() => undefined);
    await chrome?.close();
    await publisher?.stop();
    client?.close();
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
    expect(chrome?.leftover() ?? []).toEqual([]);
  });

  it('lists every installation and data type with its primary, replicas and each replica\'s lag', async () => {
    const page = await (await chrome!.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${base}/console/#/installations`);
    await page.locator('[data-installation="site-b"]').waitFor();
    await until('both replicated flows current on the page', async () => {
      const api = await row(page, 'api:site-a:site-b');
      const iocs = await row(page, 'iocs:site-a:site-b');
      return api?.state === 'current' && iocs?.state === 'current' && /^\d+\.\d s$/.test(api.lag) && /^\d+\.\d s$/.test(iocs.lag);
    }, 30_000);
    expect(await row(page, 'archiver:site-a:site-b')).toMatchObject({ state: 'not replicated yet', lag: 'never proven', dead: true });
    expect(await row(page, 'iocs:site-b:site-a')).toMatchObject({ state: 'held elsewhere', lag: 'known at site-a', dead: false });
    // Every replica of the API's report, in its order, with its state.
    const r = await report();
    expect(r.installation).toBe('site-b');
    const fromApi = r.data.flatMap((d) => d.replicas.map((x) => `${d.type}:${d.primary}:${x.installation}=${STATE_LABEL[x.state] ?? x.state}`));
    expect(fromApi).toHaveLength(4);
    expect((await rows(page)).map((x) => `${x.id}=${x.state}`)).toEqual(fromApi);
    expect(await page.locator('tr[data-installation-row]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-installation-row')))).toEqual(['site-a', 'site-b']);
    await page.locator('tr[data-installation-row="site-b"]').getByText('this server').waitFor();
    await page.getByRole('link', { name: 'console' }).first().waitFor(); // to the other installation's console
    await page.context().close();
  });

  it('turns a replica stale on the open page once its replicator is killed, its lag growing, without a reload', async () => {
    const page = await (await chrome!.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${base}/console/#/installations`);
    await until('api replica current', async () => (await row(page, 'api:site-a:site-b'))?.state === 'current', 15_000);
    let loads = 0;
    page.on('load', () => loads++);
    apiReplicator.child.kill('SIGKILL');
    await until('api replica stale on the page', async () => (await row(page, 'api:site-a:site-b'))?.state === 'stale', 30_000);
    const stale = await row(page, 'api:site-a:site-b');
    expect(stale?.dead).toBe(true);
    const lag = (x: ReplicaRow | undefined): number => Number.parseFloat(x?.lag ?? 'NaN');
    expect(lag(stale)).toBeGreaterThan(8);
    await until('its lag grows', async () => lag(await row(page, 'api:site-a:site-b')) > lag(stale) + 1, 10_000);
    expect((await report()).data.find((d) => d.type === 'api')?.replicas[0]?.state).toBe('stale');
    await expect(page.locator('#replica-summary').textContent()).resolves.toMatch(/2 of 3 replicas held here are stale or not replicated yet/);
    expect((await row(page, 'iocs:site-a:site-b'))?.state).toBe('current'); // its replicator still runs
    expect(loads).toBe(0);
    await screenshot(page, 'installations');
    await page.context().close();
  });
});
