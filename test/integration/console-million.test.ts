/**
 * The console with 1 000 000 channels: a server whose directory holds 1 000 IOCs × 1 000 records, fed through the
 * real derivation (Directory.apply with the events a mirror's snapshot delivers, values parsed from JSON as the
 * mirror does) rather than loaded into etcd — a million keys would take the shared cluster minutes to take in and
 * leave ~1 GB in it for every later test; what the console sees (the HTTP API over the same directory) is the same.
 * Chromium must search, count, page past the first 10 000 and open channels and IOCs, while never being sent more than
 * one page of channels.
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/adapters/http/app.js';
import { Directory } from '../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../src/core/directory/events.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';

const IOCS = 1000;
const PER_IOC = 1000;
const TYPES = ['ai', 'ao', 'bi', 'bo', 'calc', 'longin', 'mbbi', 'stringin'];
const CONSOLE = fileURLToPath(new URL('../../dist/console/', import.meta.url));
const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const recName = (i: number, j: number): string => `SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`;

function load(d: Directory): void {
  const events: DirectoryEvent[] = [];
  for (let i = 0; i < IOCS; i++) {
    const iocId = `IOC${pad(i, 4)}@host${i % 50}`;
    const at = new Date(1.7e12 + i * 1000).toISOString();
    events.length = 0;
    events.push({ kind: 'iocInfo', iocId, value: JSON.parse(JSON.stringify({ schema: 1, iocId, iocName: `IOC${pad(i, 4)}`,
      hostName: `host${i % 50}`, env: { RSRV_SERVER_PORT: '5064' }, uploadId: `u${i}`, state: 'complete', records: PER_IOC,
      updatedAt: at, writer: 'fixture' })) });
    if (i % 10 !== 0) events.push({ kind: 'alive', iocId, value: { uploadId: `u${i}`, since: at, writer: 'fixture' } });
    for (let j = 0; j < PER_IOC; j++) {
      const name = recName(i, j);
      events.push({ kind: 'record', iocId, name, value: JSON.parse(JSON.stringify({ name, type: TYPES[j % TYPES.length],
        desc: `device ${j} of ioc ${i}`, infos: j % 10 === 0 ? { archive: 'monitor 1.0' } : {}, aliases: [],
        file: `/ioc/IOC${pad(i, 4)}/db/dev.db`, line: 1 + j * 7 })) });
    }
    d.apply(events, i + 1);
  }
}

describe('the console with 1 000 000 channels', () => {
  let app: FastifyInstance;
  let base = '';
  let chrome: TestBrowser | undefined;
  let launching: Promise<TestBrowser> | undefined;
  let page: Page;
  const sent: { url: string; channels: number; bytes: number }[] = [];

  beforeAll(async () => {
    launching = launchBrowser(); // Chromium starts on the other core while the directory fills
    launching.catch(() => undefined); // awaited below
    const directory = new Directory();
    const t0 = performance.now();
    load(directory);
    console.log(`1 000 000 channels applied in ${Math.round(performance.now() - t0)} ms`);
    expect(directory.size).toBe(IOCS * PER_IOC);
    app = buildApp({
      directory, registry: new Registry(), consoleRoot: CONSOLE,
      serviceInfo: { version: 'test', backend: () => ({ status: 'Connected' }) },
      health: () => ({ ok: true, etcd: null, revision: directory.revision }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    chrome = await launching;
    page = await (await chrome.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    page.on('response', (r) => {
      if (!r.url().includes('/ChannelFinder/resources/channels?')) return;
      void r.body().then((b) => {
        const list = JSON.parse(b.toString('utf8')) as unknown[];
        sent.push({ url: r.url(), channels: list.length, bytes: b.length });
      }, () => undefined);
    });
  });

  afterAll(async () => {
    chrome ??= await launching?.catch(() => undefined); // a set-up that failed half-way still closes its browser
    await chrome?.close();
    await app?.close();
    expect(chrome?.leftover() ?? []).toEqual([]);
  });

  it('searches, counts and pages a million channels a page at a time', async () => {
    await page.goto(`${base}/console/#/channels`);
    await page.getByText('of 1,000,000').waitFor();
    expect(await page.locator('tbody tr[data-channel]').count()).toBe(100);
    expect(await page.locator('tbody tr[data-channel]').first().getAttribute('data-channel')).toBe(recName(0, 0));
    // Far beyond upstream's 10 000 ceiling: a query deep in the name order, then the next pages by keyboard.
    await page.getByLabel('Query').fill('~name=SR0999:*&pvStatus=Active');
    await page.getByLabel('Query').press('Enter');
    await page.getByText('of 1,000').waitFor();
    for (let k = 1; k <= 3; k++) {
      await page.getByRole('button', { name: 'Next page' }).focus();
      await page.keyboard.press('Enter');
      await page.getByText(`Channels ${(k * 100 + 1).toLocaleString('en')}–`).waitFor();
    }
    const names = await page.locator('tbody tr[data-channel]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel')));
    expect(names[0]).toBe(recName(999, 300));
    expect(names).toHaveLength(100);
    // One channel's details, from the page.
    await page.locator(`tr[data-channel="${recName(999, 301)}"] a`).first().click();
    await page.locator('section.detail').getByText('/ioc/IOC0999/db/dev.db:2108').waitFor();
    await screenshot(page, 'channels-million');
    // Never more than one page (plus one, to know that another follows) in any answer.
    await expect.poll(() => sent.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sent.map((s) => s.channels))).toBeLessThanOrEqual(101);
    expect(Math.max(...sent.map((s) => s.bytes))).toBeLessThan(200_000);
  });

  it('lists the thousand IOCs with the dead ones marked', async () => {
    await page.goto(`${base}/console/#/iocs`);
    await page.getByText('1000 IOCs').waitFor();
    await expect(page.locator('tr[data-ioc="IOC0000@host0"]').getAttribute('class')).resolves.toMatch(/dead/);
    expect(await page.locator('tr.dead').count()).toBe(100);
  });
});
