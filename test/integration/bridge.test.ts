// The RecCaster bridge against the real etcd cluster, driven by our own RecCaster client (test/support).
import { connect } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import type { RunningBridge } from '../../src/apps/bridge.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { IocInfoSchema } from '../../src/core/model.js';
import { asIocRecords, bridge, captureLog, castRecords, derivedChannels, snapshot } from '../support/bridge-harness.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { startPvsync, until } from '../support/processes.js';
import {
  RecCasterClient, addInfo, addRecord, clientGreet, frameBytes, hearAnnouncement, uploadDone, type CastRecord,
} from '../support/reccaster-client.js';

const ENV = {
  EPICS_VERSION: 'EPICS 7.0.3.1', HOSTNAME: 'rack7', IOCNAME: 'vac1', EPICS_BASE: '/opt/epics/base', TOP: '/ioc/vac',
  ARCH: 'linux-x86_64', IOC: 'iocVac1', RSRV_SERVER_PORT: '5064', PVAS_SERVER_PORT: '5075', ENGINEER: 'A. Person', LOCATION: 'Hall B',
};

async function iocClient(b: RunningBridge, records: readonly CastRecord[], env: Record<string, string> = ENV, opts: { answerPings?: boolean } = {}) {
  const c = await RecCasterClient.connect('127.0.0.1', b.port, { env, records, ...opts });
  await c.upload(b.serverKey);
  return c;
}

describe('RecCaster bridge', () => {
  let client: Etcd3;
  beforeAll(() => { client = etcdClient(); });
  afterAll(() => client.close());

  it('publishes records, aliases, infos and environment exactly as pvsync upload does', async () => {
    const recs = castRecords(300);
    // The uploader's publication of the same IOC, under its own root.
    const upKeys = new Keyspace(uniqueRoot('bridge-vs-upload-u'));
    const pub = new IocPublisher({
      client, keys: upKeys, iocId: 'vac1@rack7', iocName: 'vac1', hostName: 'rack7', iocIP: '127.0.0.1', env: ENV,
      records: asIocRecords(recs), ttlSeconds: 10, writer: 'bridge-test', log: pino({ level: 'silent' }),
    });
    await pub.start();
    // The bridge's, announced over UDP (not 5049: a test port) and heard as an IOC would.
    const keys = new Keyspace(uniqueRoot('bridge-vs-upload-b'));
    const [udp] = await freePorts(1);
    const heard = hearAnnouncement(udp!);
    const b = await bridge(client, keys, { announce: [{ host: '127.255.255.255', port: udp! }], announceIntervalMs: 200 });
    try {
      const ann = await heard;
      expect(ann).toEqual({ host: '127.0.0.1', port: b.port, key: b.serverKey });
      const ioc = await RecCasterClient.connect(ann.host, ann.port, { env: ENV, records: recs });
      await ioc.upload(ann.key);
      await until('bridge upload complete', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const up = await snapshot(client, upKeys.root);
      const br = await snapshot(client, keys.root);
      const recordsOf = (m: Map<string, string>, root: string) => new Map([...m].filter(([k]) => k.includes('/records/')).map(([k, v]) => [k.slice(root.length), v]));
      expect(recordsOf(br, keys.root)).toEqual(recordsOf(up, upKeys.root));
      const bi = IocInfoSchema.parse(JSON.parse(br.get(keys.iocInfo('vac1@rack7'))!));
      const ui = IocInfoSchema.parse(JSON.parse(up.get(upKeys.iocInfo('vac1@rack7'))!));
      const same = ({ iocId, iocName, hostName, iocIP, env, state, records, writer, schema }: typeof bi) => ({ iocId, iocName, hostName, iocIP, env, state, records, writer, schema });
      expect(same(bi)).toEqual(same(ui));
      // And the directory derives the same channels (but for the upload time).
      const strip = (chs: Awaited<ReturnType<typeof derivedChannels>>) => chs.map((c) => ({ ...c, properties: c.properties.filter((p) => p.name !== 'time') }));
      const bch = await derivedChannels(client, keys);
      expect(bch.length).toBe(300 + 2 * 60);
      expect(strip(bch)).toEqual(strip(await derivedChannels(client, upKeys)));
      const ch = bch.find((c) => c.name === 'VAC:ALIAS0')!;
      expect(Object.fromEntries(ch.properties.map((p) => [p.name, p.value]))).toMatchObject({
        hostName: 'rack7', iocName: 'vac1', iocid: 'vac1@rack7', iocIP: '127.0.0.1', pvStatus: 'Active', recceiverID: 'bridge-test',
        recordType: 'ai', recordDesc: 'gauge 0 pressure', alias: 'VAC:G0000:P', caPort: '5064', pvaPort: '5075', archive: 'monitor 1.0',
      });
      // Disconnect → Inactive at once (well inside the 10 s TTL), records kept.
      const t0 = Date.now();
      ioc.close();
      await until('alive key deleted', async () => (await client.get(keys.alive('vac1@rack7')).string()) === null, 3000);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(JSON.parse((await client.get(keys.iocInfo('vac1@rack7')).string())!)).toMatchObject({ state: 'stopped' });
      expect((await derivedChannels(client, keys)).every((c) => c.properties.some((p) => p.name === 'pvStatus' && p.value === 'Inactive'))).toBe(true);
    } finally {
      await b.close();
      await pub.stop();
    }
  });

  it('an IOC restarting with unchanged records writes almost nothing; a changed one writes the difference', async () => {
    const keys = new Keyspace(uniqueRoot('bridge-restart'));
    const b = await bridge(client, keys);
    try {
      const recs = castRecords(500);
      const a = await iocClient(b, recs);
      await until('first upload', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      a.close();
      await until('inactive', async () => (await client.get(keys.alive('vac1@rack7')).string()) === null, 3000);
      const before = Number((await client.get(keys.iocInfo('vac1@rack7')).exec()).header.revision);
      const again = await iocClient(b, recs);
      await until('second upload', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const after = Number((await client.get(keys.iocInfo('vac1@rack7')).exec()).header.revision);
      expect(after - before).toBeLessThanOrEqual(2); // the claim and the completing transaction, no record
      again.close();
      await until('inactive again', async () => (await client.get(keys.alive('vac1@rack7')).string()) === null, 3000);
      // A reboot with one record changed and 100 fewer: one record written, 100 marked gone, nothing deleted.
      const changed = recs.slice(0, 400).map((r, i) => (i === 1 ? { ...r, desc: 'changed' } : r));
      const r0 = Number((await client.get(keys.iocInfo('vac1@rack7')).exec()).header.revision);
      const third = await iocClient(b, changed);
      await until('third upload', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const snap = await snapshot(client, keys.iocRecordsPrefix('vac1@rack7'));
      expect(snap.size).toBe(500);
      expect([...snap.values()].filter((v) => v.includes('"gone":true'))).toHaveLength(100);
      const r1 = Number((await client.get(keys.iocInfo('vac1@rack7')).exec()).header.revision);
      expect(r1 - r0).toBeLessThanOrEqual(3); // claim, uploading + the record, the gone marks with the completion
      third.close();
    } finally {
      await b.close();
    }
  });

  it('writes of one record in one session land in order: a late addition and a repeated name, no key twice in a transaction', async () => {
    const keys = new Keyspace(uniqueRoot('bridge-order'));
    const { log, lines } = captureLog();
    const b = await bridge(client, keys, {}, log);
    try {
      const c = await RecCasterClient.connect('127.0.0.1', b.port, { env: ENV, records: [] });
      await c.greeted;
      const env = Object.entries(ENV).flatMap(([k, v]) => addInfo(0, k, v));
      // REP:A is handed out when REP:B begins, again under a second record id, and again at UploadDone with the
      // info that came after it was finished: three writes of one key, the last one what the session holds last.
      c.write([...clientGreet(b.serverKey), ...env,
        ...addRecord(1, false, 'ai', 'REP:A'), ...addInfo(1, 'recordDesc', 'first'),
        ...addRecord(2, false, 'bo', 'REP:B'), ...addInfo(1, 'archive', 'late'),
        ...addRecord(3, false, 'ao', 'REP:A'), ...addInfo(3, 'recordDesc', 'second'),
        ...addRecord(4, false, 'bo', 'REP:C'), ...uploadDone()]);
      await until('complete', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const stored = await snapshot(client, keys.iocRecordsPrefix('vac1@rack7'));
      expect(JSON.parse(stored.get(keys.iocRecord('vac1@rack7', 'REP:A'))!)).toEqual(
        { name: 'REP:A', type: 'ai', desc: 'first', infos: { archive: 'late' }, aliases: [] });
      expect([...stored.keys()].map((k) => k.split('/').pop())).toEqual(['REP:A', 'REP:B', 'REP:C']);
      expect(lines.filter((l) => l['level'] as number >= 40).map((l) => l['msg'])).toEqual([]);
      expect(c.socket.destroyed).toBe(false);
      c.close();
    } finally {
      await b.close();
    }
  });

  it('one IOC connected to two bridges has one writer; the other session is closed', async () => {
    const keys = new Keyspace(uniqueRoot('bridge-dual'));
    const { log, lines } = captureLog();
    const b1 = await bridge(client, keys, { name: 'bridge-1' });
    const b2 = await bridge(client, keys, { name: 'bridge-2', claimWaitMs: 500 }, log);
    try {
      const recs = castRecords(50);
      const first = await iocClient(b1, recs);
      await until('upload via bridge-1', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const rev = Number((await client.get(keys.alive('vac1@rack7')).exec()).header.revision);
      const second = await iocClient(b2, recs.map((r) => ({ ...r, desc: 'from the flapping link' })));
      await second.closed; // refused once the claim wait is over
      expect(lines.some((l) => l['msg'] === 'IOC refused: another session writes it')).toBe(true);
      const now = Number((await client.get(keys.alive('vac1@rack7')).exec()).header.revision);
      expect(now).toBe(rev); // bridge-2 wrote nothing at all
      expect(JSON.parse((await client.get(keys.alive('vac1@rack7')).string())!)).toMatchObject({ writer: 'bridge-1' });
      expect(first.socket.destroyed).toBe(false);
      first.close();
    } finally {
      await b1.close();
      await b2.close();
    }
  });

  it('a killed bridge: Inactive within TTL + 1 s; the IOC re-uploads through a second bridge, one IOC, no duplicate', async () => {
    const keys = new Keyspace(uniqueRoot('bridge-kill'));
    const [port] = await freePorts(1);
    const proc = startPvsync(['bridge', '--name', 'bridge-proc', '--bind', `127.0.0.1:${port}`, '--announce', '127.0.0.1:9',
      '--ttl', '2', '--endpoints', testEndpoints().join(','), '--root', keys.root]);
    const b2 = await bridge(client, keys, { name: 'bridge-2', claimWaitMs: 4000 });
    try {
      await until('bridge process listening', () => proc.output.join('').includes('bridge listening'), 20_000);
      const recs = castRecords(200);
      const c1 = await RecCasterClient.connect('127.0.0.1', port!, { env: ENV, records: recs });
      await c1.upload(0);
      await until('upload via the process', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const t0 = Date.now();
      proc.child.kill('SIGKILL');
      await until('alive expired', async () => (await client.get(keys.alive('vac1@rack7')).string()) === null, 6000);
      expect(Date.now() - t0).toBeLessThan(2000 + 1000 + 500); // TTL + 1 s (+ the poll)
      c1.close();
      const c2 = await iocClient(b2, recs);
      await until('Active again via bridge-2', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const all = await snapshot(client, keys.root);
      const iocIds = new Set([...all.keys()].filter((k) => k.startsWith(keys.iocsPrefix)).map((k) => k.slice(keys.iocsPrefix.length).split('/')[0]));
      expect([...iocIds]).toEqual(['vac1@rack7']);
      const chs = await derivedChannels(client, keys);
      expect(chs).toHaveLength(200 + 2 * 40);
      expect(chs.every((c) => c.properties.some((p) => p.name === 'pvStatus' && p.value === 'Active'))).toBe(true);
      expect(chs.every((c) => c.properties.some((p) => p.name === 'recceiverID' && p.value === 'bridge-2'))).toBe(true);
      c2.close();
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
      await b2.close();
    }
  });

  it('hostile peers are closed with a log line; published IOCs and other sessions are untouched', async () => {
    const keys = new Keyspace(uniqueRoot('bridge-hostile'));
    const { log, lines } = captureLog();
    const b = await bridge(client, keys, { frameTimeoutMs: 800, pingIntervalMs: 500, maxConnections: 40, maxPerPeer: 40 }, log);
    const raw = async (bytes: Buffer[]): Promise<{ closedMs: number }> => {
      const s = connect({ host: '127.0.0.1', port: b.port });
      s.on('error', () => undefined);
      s.resume(); // read the ServerGreet, so that the bridge's FIN is seen
      await new Promise<void>((r) => s.once('connect', () => r()));
      const t0 = Date.now();
      for (const x of bytes) s.write(x);
      await new Promise<void>((r) => s.once('close', () => r()));
      return { closedMs: Date.now() - t0 };
    };
    try {
      const good = await iocClient(b, castRecords(100));
      await until('good IOC published', async () => (await client.get(keys.alive('vac1@rack7')).string()) !== null, 10_000);
      const published = await snapshot(client, keys.root);
      const greet = frameBytes(0x0001, Buffer.alloc(8));
      // Bad magic, oversized length, a half-sent frame, silence instead of a greeting.
      const results = await Promise.all([
        raw([...greet, Buffer.from('GET / HTTP/1.0\r\n\r\n')]),
        raw([...greet, Buffer.from([0x52, 0x43, 0x00, 0x03, 0x7f, 0xff, 0xff, 0xff])]),
        raw([...greet, ...addRecord(1, false, 'ai', 'HALF:SENT').slice(0, 1)]),
        raw([]),
      ]);
      for (const r of results) expect(r.closedMs).toBeLessThan(5000);
      const reasons = lines.map((l) => String(l['reason'] ?? ''));
      expect(reasons.some((r) => /bad magic/.test(r))).toBe(true);
      expect(reasons.some((r) => /exceeds/.test(r))).toBe(true);
      expect(reasons.some((r) => /frame left half-sent/.test(r))).toBe(true);
      expect(reasons.some((r) => /no ClientGreet in time/.test(r))).toBe(true);
      // An IOC that stops answering pings is closed (and marked Inactive); a non-ASCII name is refused, the rest kept.
      const mute = await iocClient(b, castRecords(5, 'MUTE'), { ...ENV, IOCNAME: 'mute' }, { answerPings: false });
      await mute.closed;
      expect(lines.some((l) => l['msg'] === 'no pong from the IOC in time: closing the connection')).toBe(true);
      const odd = await iocClient(b, [{ name: 'ODD:\u00e9t\u00e9', type: 'ai' }, { name: 'ODD:ok', type: 'ai' }], { ...ENV, IOCNAME: 'odd' });
      await until('odd IOC published', async () => (await client.get(keys.alive('odd@rack7')).string()) !== null, 10_000);
      expect(lines.some((l) => /non-ASCII/.test(String(l['reason'])))).toBe(true);
      expect([...(await snapshot(client, keys.iocRecordsPrefix('odd@rack7'))).keys()].map((k) => k.split('/').pop())).toEqual(['ODD:ok']);
      odd.close();
      // A flood of idle connections: beyond the limit refused at once; a real IOC still uploads meanwhile.
      const flood = await Promise.all(Array.from({ length: 60 }, async () => {
        const s = connect({ host: '127.0.0.1', port: b.port });
        s.on('error', () => undefined);
        return s;
      }));
      await until('flood refused beyond the limit', () => lines.some((l) => l['msg'] === 'connection refused: too many connections'), 5000);
      for (const s of flood.slice(0, 30)) s.destroy();
      await until('room again', () => true);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const other = await iocClient(b, castRecords(300, 'OTHER'), { ...ENV, IOCNAME: 'other' });
      await until('other IOC published during the flood', async () => (await client.get(keys.alive('other@rack7')).string()) !== null, 10_000);
      expect(Date.now() - t0).toBeLessThan(5000);
      for (const s of flood) s.destroy();
      // Nothing the good IOC published was lost or changed, and it is still connected and Active.
      const now = await snapshot(client, keys.iocRecordsPrefix('vac1@rack7'));
      for (const [k, v] of published) if (k.startsWith(keys.iocRecordsPrefix('vac1@rack7'))) expect(now.get(k)).toBe(v);
      expect(await client.get(keys.alive('vac1@rack7')).string()).not.toBeNull();
      expect(good.socket.destroyed).toBe(false);
      good.close();
      other.close();
    } finally {
      if (process.env['BRIDGE_DEBUG'] !== undefined) console.log(lines.map((l) => `${String(l['msg'])} ${String(l['reason'] ?? '')}`).join('\n'));
      await b.close();
    }
  }, 30_000);
});
