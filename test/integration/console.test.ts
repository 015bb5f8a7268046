/**
 * The operator console in real headless Chromium (Debian's chromium through playwright-core) against a real
 * `pvsync serve` process on the suite's etcd cluster, with real uploader processes and two real archiver agents:
 * a search shows exactly the channels the API returns; an IOC killed during the test turns Inactive on the open pages
 * without a reload; an ADMIN switches the archiver over from the page and the page shows the new active node;
 * anonymous (and non-ADMIN) users get no switchover button and the API refuses them anyway; no browser process is
 * left behind. With PVSYNC_SCREENSHOTS=1 it also writes docs/console/*.png.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import { nodeFileSource } from '../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../src/core/dbfile/startup.js';
import { Keyspace, iocIdOf } from '../../src/core/keyspace.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiverHarness } from '../support/archiver-harness.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
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
    harness = await ArchiverHarness.start({ endpoints: testEndpoints(), root, group: 'ha', ttlS: 2 });
    client = etcdClient();
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
    chrome = await launching;
  });

  afterAll(async () => {
    chrome ??= await launching?.catch(() => undefined); // a set-up that failed half-way still closes its browser
    await chrome?.close();
    await harness?.stop();
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

  it('marks the views that wait for the archiver sink and installations, without data', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/#/archived`);
    await page.getByText('Not available yet.').waitFor();
    await page.goto(`${base}/console/#/installations`);
    await page.getByText('Not available yet.').waitFor();
    await page.context().close();
  });
});
