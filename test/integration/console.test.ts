/**
 * The operator console in real headless Chromium (Debian's chromium through playwright-core) against a real
 * `pvsync serve` process on the suite's etcd cluster, with real uploader processes, the KOMAC pair (two real archiver
 * agents starting `pvsync archiver-sim` on one MariaDB) and the archive reconciler following the directory:
 * a search shows exactly the channels the API returns; an IOC killed during the test turns Inactive on the open pages
 * without a reload; an ADMIN switches the archiver over from the page and the page shows the new active node;
 * anonymous (and non-ADMIN) users get no switchover button and the API refuses them anyway; the archived PVs are
 * the reconciler's, with the status the active appliance reports, changing as PVs are paused and deleted there, and
 * an alert once no appliance is reachable; no browser process is left behind. With PVSYNC_SCREENSHOTS=1 it also
 * writes docs/console/*.png.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { BplClient } from '../../src/adapters/archiver-bpl/bpl-client.js';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import { ArchapplStore } from '../../src/adapters/mariadb/archappl.js';
import { startArchiveFollower, type ArchiveFollower } from '../../src/apps/archive-follower.js';
import { nodeFileSource } from '../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../src/core/dbfile/startup.js';
import { Keyspace, iocIdOf } from '../../src/core/keyspace.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliancePair, type AppliancePair } from '../support/appliance-pair.js';
import type { ArchiverHarness } from '../support/archiver-harness.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { createTestDatabase, type TestDatabase } from '../support/mariadb.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

interface Channel { name: string; properties: { name: string; value: string | null }[] }
const prop = (c: Channel | undefined, n: string): string | null | undefined => c?.properties.find((p) => p.name === n)?.value;

describe('operator console in headless Chromium', () => {
  const root = uniqueRoot('console');
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-console-'));
  const procs: PvsyncProcess[] = [];
  let base = '';
  let serve: PvsyncProcess;
  let bpm: PvsyncProcess;
  let harness: ArchiverHarness | undefined;
  let pair: AppliancePair | undefined;
  let db: TestDatabase | undefined;
  let store: ArchapplStore | undefined;
  let follower: ArchiveFollower | undefined;
  let chrome: TestBrowser | undefined;
  let launching: Promise<TestBrowser> | undefined;
  let client: Etcd3;
  const publishers: IocPublisher[] = [];
  let first = ''; // the archiver node that won the first election, and the other one
  let other = '';

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${path}`, init);
    return { status: r.status, body: (await r.json()) as T };
  };
  // The IOC killed during the test runs as a real `pvsync upload` process; the others are published in-process by
  // the same parser and publisher (fewer Node processes to start on a shared two-core machine).
  const upload = (stCmd: string, ...extra: string[]): PvsyncProcess => {
    const p = startPvsync(['upload', '--st-cmd', stCmd, '--endpoints', testEndpoints().join(','), '--root', root, ...extra]);
    procs.push(p);
    return p;
  };
  const publish = async (stCmd: string, hostName: string): Promise<void> => {
    const parsed = parseStartup(stCmd, { files: nodeFileSource(), env: {} });
    const iocName = parsed.env['IOCNAME'] ?? 'ioc';
    const p = new IocPublisher({
      client, keys: new Keyspace(root), iocId: iocIdOf(iocName, hostName), iocName, hostName,
      env: { IOCNAME: iocName, ...(parsed.env['ENGINEER'] === undefined ? {} : { ENGINEER: parsed.env['ENGINEER'] }) },
      records: parsed.records, unreadable: parsed.unreadable, ttlSeconds: 10, writer: 'console-test', log: pino({ level: 'silent' }),
    });
    publishers.push(p);
    await p.start();
  };
  const archiveTagged = async (): Promise<string[]> =>
    (await api<Channel[]>('/ChannelFinder/resources/channels?archive=*')).body.map((c) => c.name);
  const appliance = (node: string): BplClient => new BplClient(pair!.mgmtUrl(node), { timeoutMs: 3000 });
  const newPage = async (): Promise<Page> => {
    const ctx = await chrome!.browser.newContext({ viewport: { width: 1440, height: 900 } });
    return ctx.newPage();
  };

  beforeAll(async () => {
    launching = launchBrowser(); // starts while the server, IOCs and agents start
    launching.catch(() => undefined); // awaited below
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    serve = startPvsync(['serve', '--port', String(port), '--host', '127.0.0.1', '--root', root, '--demo-auth',
      '--archiver-group', 'ha', '--endpoints', testEndpoints().join(',')]);
    procs.push(serve);
    // An IOC with a configuration error (a database file that does not exist), and two IOCs named alike.
    cpSync(join(EXAMPLES, 'timing'), join(dir, 'timing'), { recursive: true });
    writeFileSync(join(dir, 'timing', 'st.cmd'), [
      'epicsEnvSet("IOCNAME", "timing-evr2")', 'epicsEnvSet("EPICS_DB_INCLUDE_PATH", "db")',
      'dbLoadRecords("evr.db", "EVR=TIM:EVR2")', 'dbLoadRecords("db/missing.db", "EVR=TIM:EVR2")', 'iocInit()', ''].join('\n'));
    bpm = upload(join(EXAMPLES, 'linac-bpm', 'st.cmd'), '--ttl', '1', '--host', 'ioc-linac1');
    db = await createTestDatabase('console');
    store = await ArchapplStore.open(db.url, db.database);
    pair = await startAppliancePair({ endpoints: testEndpoints(), root, group: 'ha', ttlS: 2, db: db.url, database: db.database, identity: 'console-arch' });
    harness = pair.harness;
    client = etcdClient();
    follower = await startArchiveFollower({
      client, keys: new Keyspace(root), group: 'ha', store, log: pino({ level: 'warn' }),
      settings: { selector: { names: [], untargeted: true }, onRemoved: 'pause', applianceIdentity: 'console-arch', passMs: 200 },
    });
    await publish(join(EXAMPLES, 'vacuum', 'st.cmd'), 'ioc-vac1');
    await publish(join(EXAMPLES, 'timing', 'st.cmd'), 'ioc-tim1');
    await publish(join(EXAMPLES, 'timing', 'st.cmd'), 'ioc-tim-spare');
    await publish(join(dir, 'timing', 'st.cmd'), 'ioc-tim2');
    let health = '';
    await until('server ready', async () => {
      const r = await fetch(`${base}/healthz`).catch((e: unknown) => String(e));
      health = typeof r === 'string' ? r : `${r.status} ${await r.text()}`;
      return health.startsWith('200');
    }, 60_000).catch((err: unknown) => { throw new Error(`${String(err)}: ${health} exit=${String(serve.child.exitCode)}/${String(serve.child.signalCode)}\n${serve.output.join('')}`); });
    await until('five IOCs uploaded', async () => {
      const r = await api<{ iocs: { status: string; state: string }[] }>('/api/v1/iocs');
      return r.body.iocs.length === 5 && r.body.iocs.every((i) => i.status === 'Active' && i.state === 'complete');
    }, 60_000);
    await until('an archiver node active', async () => {
      first = (await harness!.service.status('ha')).active?.node ?? '';
      return first !== '';
    }, 60_000);
    other = first === 'a' ? 'b' : 'a';
    // Every archive-tagged channel archived on the active appliance before the tests change anything.
    await until('the reconciler archived every PV', async () => {
      const names = await archiveTagged();
      const st = await appliance(first).pvStatus(names).catch(() => new Map());
      return names.length > 20 && names.every((n) => st.get(n)?.status === 'Being archived');
    }, 60_000);
    chrome = await launching;
  });

  afterAll(async () => {
    chrome ??= await launching?.catch(() => undefined); // a set-up that failed half-way still closes its browser
    await chrome?.close();
    await follower?.stop();
    await harness?.stop();
    await store?.close();
    await db?.drop();
    await Promise.all(publishers.map((p) => p.stop()));
    client?.close();
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
    // No browser process is left behind.
    expect(chrome?.leftover() ?? []).toEqual([]);
  });

  it('serves the console at / and /console/ with cache headers, from pvsync itself', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const index = await fetch(`${base}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /src="\/console\/(assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    const asset = await fetch(`${base}/console/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('finds the channels the API finds', async () => {
    const page = await newPage();
    const query = '~name=LINAC:BPM0*';
    await page.goto(`${base}/console/#/channels?q=${encodeURIComponent(query)}`);
    const expected = (await api<Channel[]>(`/ChannelFinder/resources/channels?~name=LINAC:BPM0*`)).body.map((c) => c.name);
    expect(expected.length).toBeGreaterThan(3);
    await page.getByText(`of ${expected.length}`).waitFor();
    const shown = await page.locator('tbody tr[data-channel]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel')));
    expect(shown).toEqual(expected.slice(0, 100));
    // Typed in the search box, by keyboard: a pattern with alternatives.
    await page.getByLabel('Query').fill('TIM:EVR2:*');
    await page.getByLabel('Query').press('Enter');
    const evr2 = (await api<Channel[]>('/ChannelFinder/resources/channels?~name=TIM:EVR2:*')).body.map((c) => c.name);
    await page.getByText(`of ${evr2.length}`).waitFor();
    expect(await page.locator('tbody tr[data-channel]').count()).toBe(Math.min(100, evr2.length));
    // A channel's details: properties, the IOC serving it, file and line.
    const first = expected[0]!;
    await page.goto(`${base}/console/#/channels/${encodeURIComponent(first)}?q=${encodeURIComponent(query)}`);
    const detail = page.locator('section.detail');
    await detail.getByText('ioc-linac1', { exact: false }).first().waitFor();
    await expect(detail.locator('dd code').first().textContent()).resolves.toMatch(/\.(db|template):\d+$/);
    await screenshot(page, 'channels');
    await page.context().close();
  });

  it('shows IOCs with errors and duplicate names, and an IOC page with records and environment', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/#/iocs`);
    await page.locator('tr[data-ioc]').nth(4).waitFor();
    const errRow = page.locator('tr[data-ioc="timing-evr2@ioc-tim2"]');
    await expect(errRow.textContent()).resolves.toMatch(/1 error/);
    const dup = page.locator('tr[data-ioc="timing-evr1@ioc-tim1"]');
    await expect(dup.textContent()).resolves.toMatch(/duplicate name/);
    await screenshot(page, 'iocs');
    await page.locator('tr[data-ioc="timing-evr2@ioc-tim2"] a').first().click();
    await page.getByRole('heading', { name: 'IOC timing-evr2@ioc-tim2' }).waitFor();
    await page.getByText('missing.db').first().waitFor();
    await page.locator('table th', { hasText: 'IOCNAME' }).waitFor();
    await page.getByRole('link', { name: 'TIM:EVR2:', exact: false }).first().waitFor();
    await screenshot(page, 'ioc');
    await page.context().close();
  });

  it('turns a killed IOC Inactive on open pages within 2 s, without a reload', async () => {
    const channelsPage = await newPage();
    const iocsPage = await newPage();
    await channelsPage.goto(`${base}/console/#/channels?q=${encodeURIComponent('LINAC:BPM0*')}`);
    await channelsPage.locator('.state-live').waitFor(); // the watch stream is open
    await channelsPage.locator('tbody tr[data-channel]').first().waitFor();
    await iocsPage.goto(`${base}/console/#/iocs`);
    await iocsPage.locator('tr[data-ioc="linac-bpm@ioc-linac1"]').waitFor();
    const loaded = { channels: 0, iocs: 0 };
    channelsPage.on('load', () => loaded.channels++);
    iocsPage.on('load', () => loaded.iocs++);
    const pageInactive = (p: Page, selector: string): Promise<number> =>
      p.locator(`${selector}.dead`).waitFor({ timeout: 15_000 }).then(() => Date.now());

    bpm.child.kill('SIGKILL'); // the uploader dies: its lease (TTL 1 s) expires, the IOC's channels turn Inactive
    const killedAt = Date.now();
    const [apiAt, chAt, iocAt] = await Promise.all([
      until('API shows LINAC:BPM01:X Inactive', async () =>
        prop((await api<Channel>('/ChannelFinder/resources/channels/LINAC:BPM01:X')).body, 'pvStatus') === 'Inactive', 15_000)
        .then(() => Date.now()),
      pageInactive(channelsPage, 'tr[data-channel="LINAC:BPM01:X"]'),
      pageInactive(iocsPage, 'tr[data-ioc="linac-bpm@ioc-linac1"]'),
    ]);
    // Within 2 s of the directory knowing it, and of the lease's expiry (TTL 1 s) after the kill; no reload.
    expect(chAt - apiAt).toBeLessThan(2000);
    expect(iocAt - apiAt).toBeLessThan(2000);
    expect(chAt - killedAt).toBeLessThan(1000 + 2000);
    expect(iocAt - killedAt).toBeLessThan(1000 + 2000);
    expect(loaded).toEqual({ channels: 0, iocs: 0 });
    await expect(channelsPage.locator('#live-news').textContent()).resolves.toMatch(/Inactive|changed status/);
    await channelsPage.context().close();
    await iocsPage.context().close();
  });

  it('lets an ADMIN switch the archiver over from the page, and shows the new active node', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/#/archiver`);
    await page.locator(`[data-active="${first}"]`).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('User').fill('admin');
    await page.getByLabel('Password').fill('adminPass');
    await page.getByLabel('Password').press('Enter');
    await page.getByText('Signed in as').waitFor();
    await page.locator(`tr[data-node="${other}"] [data-col="role"]`).getByText('standby').waitFor();
    await screenshot(page, 'archiver');
    await page.getByRole('button', { name: `Switch over to ${other}` }).click();
    await page.getByRole('button', { name: `Confirm switchover to ${other}` }).click();
    await page.locator(`[data-active="${other}"]`).waitFor({ timeout: 15_000 });
    expect((await harness!.service.status('ha')).active?.node).toBe(other);
    await page.getByRole('status').getByText(`Switched over from ${first} to ${other}`).waitFor();
    // The timeline lists the switchover with its duration.
    await until('timeline shows the switchover', async () =>
      (await page.locator('section[aria-labelledby="h-timeline"] tbody tr').allTextContents()).some((t) => /switchover/.test(t) && /\d+ ms/.test(t)),
    15_000);
    await page.locator('.plot canvas').first().waitFor();
    await screenshot(page, 'archiver-timeline');
    await page.context().close();
  });

  it('shows no switchover button to anonymous or non-ADMIN users, and the API refuses them', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/#/archiver`);
    await page.locator(`tr[data-node="${first}"]`).waitFor();
    await page.getByText('Sign in as an ADMIN user').waitFor();
    expect(await page.getByRole('button', { name: /Switch over/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('User').fill('user');
    await page.getByLabel('Password').fill('userPass');
    await page.getByLabel('Password').press('Enter');
    await page.getByText('Signed in as').waitFor();
    expect(await page.getByRole('button', { name: /Switch over/ }).count()).toBe(0);
    await page.context().close();
    const before = (await harness!.service.status('ha')).active?.node;
    const post = (auth?: string) => fetch(`${base}/api/v1/archiver/switchover`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) },
      body: JSON.stringify({ group: 'ha' }),
    });
    expect((await post()).status).toBe(401);
    expect((await post(`Basic ${Buffer.from('user:userPass').toString('base64')}`)).status).toBe(401);
    expect((await harness!.service.status('ha')).active?.node).toBe(before);
    expect((await api('/api/v1/whoami')).status).toBe(401);
  });

  interface PvRow { name: string; status: string; sampling: string; last: string; next: string }
  const pvRows = (page: Page): Promise<PvRow[]> => page.locator('tr[data-pv]').evaluateAll((rows) => rows.map((r) => {
    const col = (c: string): string => r.querySelector(`[data-col="${c}"]`)?.textContent?.trim() ?? '';
    return { name: r.getAttribute('data-pv') ?? '', status: col('status'), sampling: col('sampling'), last: col('last'), next: col('next') };
  }));
  /** The rows as the active appliance reports them now: status, and method and period where it gives them. */
  const asReported = async (node: string, names: string[]): Promise<Omit<PvRow, 'last' | 'next'>[]> => {
    const st = await appliance(node).pvStatus(names);
    return names.map((name) => {
      const e = st.get(name) ?? {};
      const sampling = typeof e.samplingPeriod === 'string' ? `${e.isMonitored === 'true' ? 'MONITOR' : 'SCAN'} ${Number(e.samplingPeriod)} s` : '';
      return { name, status: String(e.status), sampling };
    });
  };

  it('lists the archived PVs with the status the active appliance reports, and pages by keyboard', async () => {
    const active = (await harness!.service.status('ha')).active?.node ?? '';
    expect(active).toBe(other); // the switchover above moved it
    const expected = await archiveTagged();
    const bpm = (await api<Channel[]>('/ChannelFinder/resources/channels?archive=*&iocid=linac-bpm@ioc-linac1')).body.map((c) => c.name);
    expect(bpm.length).toBeGreaterThan(5);
    const page = await newPage();
    await page.goto(`${base}/console/#/archived?size=20`);
    await page.locator(`#archived-active [data-active="${active}"]`).waitFor();
    await page.getByText(`PVs 1–20 of ${expected.length}`).waitFor();
    // The killed IOC's PVs were paused by the reconciler; the rest are archived as the directory asks.
    let last = '';
    await until('the page shows what the appliance reports', async () => {
      const rows = await pvRows(page);
      const want = await asReported(active, expected.slice(0, 20));
      last = JSON.stringify({ rows: rows.slice(0, 3), want: want.slice(0, 3) });
      return JSON.stringify(rows.map(({ name, status, sampling }) => ({ name, status, sampling }))) === JSON.stringify(want)
        && rows.every((r) => (bpm.includes(r.name) ? r.status === 'Paused' : r.status === 'Being archived') && r.next === 'in step');
    }, 20_000).catch((err: unknown) => { throw new Error(`${String(err)}: ${last}`); });
    const rows = await pvRows(page);
    expect(rows.filter((r) => r.status === 'Being archived').every((r) => /^[A-Z][a-z]{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} UTC$/.test(r.last))).toBe(true);
    const next = page.getByRole('button', { name: 'Next PVs' });
    await next.focus();
    await next.press('Enter');
    await page.getByText(`PVs 21–40 of ${expected.length}`).waitFor();
    await until('the second page', async () => (await pvRows(page)).map((r) => r.name).join() === expected.slice(20, 40).join());
    await page.context().close();
  });

  it('follows the appliance when an operator pauses and deletes a PV there, without a reload', async () => {
    const active = (await harness!.service.status('ha')).active?.node ?? '';
    const pv = 'VAC:S1:GA1:ON';
    const page = await newPage();
    await page.goto(`${base}/console/#/archived`);
    await page.getByLabel('PV name').fill('VAC:*');
    await page.getByLabel('PV name').press('Enter');
    // The filtered page replaces the unfiltered one (never shown under the new filter); the PV is archived there.
    await until('only VAC: PVs listed, the PV archived', async () => {
      const rows = await pvRows(page);
      return rows.length > 3 && rows.every((r) => r.name.startsWith('VAC:')) && rows.some((r) => r.name === pv && r.status === 'Being archived');
    }, 10_000);
    let loads = 0;
    page.on('load', () => loads++);
    const row = async (): Promise<PvRow | undefined> => (await pvRows(page)).find((r) => r.name === pv);

    await appliance(active).pause([pv]);
    await until('paused on the page', async () => (await row())?.status === 'Paused', 10_000);
    expect((await row())?.next).toBe('to resume'); // the directory still asks for it: the reconciler's next pass resumes it
    await screenshot(page, 'archived');
    expect((await appliance(active).delete(pv)).status).toBe('ok');
    await until('deleted on the page', async () => (await row())?.status === 'Not being archived', 10_000);
    expect((await row())?.next).toBe('to archive');
    expect(loads).toBe(0);
    await page.context().close();
  });

  it('says when no appliance is reachable, and the installations view of a single installation says so', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/#/archived?size=5`);
    await page.locator('tr[data-pv] [data-col="status"]').getByText(/Being archived|Paused/).first().waitFor();
    // Both nodes stop (their stop hooks stop the appliances): no node is active.
    await harness!.stopAgent(first);
    await harness!.stopAgent(other);
    await page.getByRole('alert').getByText('No appliance reachable').waitFor({ timeout: 15_000 });
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/no archiver node is active/);
    await until('statuses unknown', async () => (await pvRows(page)).every((r) => r.status === 'unknown' && r.next === ''));
    expect((await pvRows(page)).length).toBe(5); // the directory's side is still listed
    await page.goto(`${base}/console/#/installations`);
    await page.getByText('serves one installation only').waitFor();
    await page.context().close();
  });
});
