/**
 * The spine end to end: a real uploader process publishes an example IOC into the real 3-member cluster, a mirror
 * follows it into the directory, and the ChannelFinder API answers; then the uploader is killed, stopped and
 * restarted.
 */
import { resolve } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mirror } from '../../src/adapters/etcd/mirror.js';
import { nodeFileSource } from '../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../src/core/dbfile/startup.js';
import { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel } from '../../src/core/model.js';
import { testEndpoints, uniqueRoot } from '../support/cluster.js';
import { startMirroredApp, type MirroredApp } from '../support/mirrored-app.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

const ST_CMD = resolve('examples/linac-bpm/st.cmd');
const TTL = 2;

describe('spine: IOC files → etcd → ChannelFinder queries', () => {
  const keys = new Keyspace(uniqueRoot('spine'));
  const expected = parseStartup(ST_CMD, { files: nodeFileSource(), env: {} });
  const recordNames = expected.records.map((r) => r.name);
  const aliasNames = expected.records.flatMap((r) => r.aliases);
  const allNames = [...recordNames, ...aliasNames].sort();
  let served: MirroredApp | undefined;
  let client: Etcd3;
  let mirror: Mirror;
  let app: FastifyInstance;
  let uploader: PvsyncProcess | undefined;

  const upload = (): PvsyncProcess => startPvsync(['upload', '--st-cmd', ST_CMD, '--endpoints', testEndpoints().join(','),
    '--root', keys.root, '--ttl', String(TTL), '--host', 'testhost']);
  const channels = async (query: string): Promise<CfChannel[]> => {
    const res = await app.inject({ method: 'GET', url: `/ChannelFinder/resources/channels?${query}` });
    expect(res.statusCode).toBe(200);
    return res.json<CfChannel[]>();
  };
  const prop = (c: CfChannel, name: string): string | null | undefined => c.properties.find((p) => p.name === name)?.value;
  const statuses = async (): Promise<Set<string | null | undefined>> =>
    new Set((await channels('~name=*&~size=10000')).map((c) => prop(c, 'pvStatus')));

  beforeAll(async () => {
    expect(recordNames.length).toBeGreaterThan(40);
    expect(aliasNames.length).toBeGreaterThan(10);
    served = await startMirroredApp(keys);
    ({ client, mirror, app } = served);
  });

  afterAll(async () => {
    uploader?.child.kill('SIGKILL');
    await served?.stop();
  });

  it('publishes every record and alias with the recceiver properties', async () => {
    uploader = upload();
    await until('all channels active', async () => (await channels('pvStatus=Active&~size=10000')).length === allNames.length);
    const all = await channels('~size=10000');
    expect(all.map((c) => c.name)).toEqual(allNames);
    for (const rec of expected.records) {
      const c = all.find((x) => x.name === rec.name)!;
      expect(c.owner).toBe('pvsync');
      expect(prop(c, 'iocName')).toBe('linac-bpm');
      expect(prop(c, 'hostName')).toBe('testhost');
      expect(prop(c, 'iocid')).toBe('linac-bpm@testhost');
      expect(prop(c, 'pvStatus')).toBe('Active');
      expect(prop(c, 'recordType')).toBe(rec.type);
      expect(prop(c, 'recordDesc')).toBe(rec.fields['DESC']);
      expect(prop(c, 'archive')).toBe(rec.infos['archive']);
      expect(prop(c, 'time')).toMatch(/^\d{4}-\d\d-\d\dT/);
      for (const alias of rec.aliases) {
        const a = all.find((x) => x.name === alias)!;
        expect(prop(a, 'alias')).toBe(rec.name);
        expect(prop(a, 'recordType')).toBe(rec.type);
        expect(prop(a, 'pvStatus')).toBe('Active');
      }
    }
    const count = await app.inject({ method: 'GET', url: '/ChannelFinder/resources/channels/count?~name=LINAC:BPM0*:X' });
    // BPM01..BPM09 X records and their POS:X aliases: the glob covers the whole name.
    expect(count.body).toBe('18');
  });

  it('turns every channel Inactive within TTL + 1 s of a SIGKILL, and never deletes one', async () => {
    const p = uploader!;
    p.child.kill('SIGKILL');
    await p.exited;
    const t0 = Date.now();
    await until('all channels inactive', async () => {
      const s = await statuses();
      return s.size === 1 && s.has('Inactive');
    }, (TTL + 5) * 1000);
    expect(Date.now() - t0).toBeLessThanOrEqual((TTL + 1) * 1000);
    expect((await channels('~size=10000')).map((c) => c.name)).toEqual(allNames);
  });

  it('comes back Active on restart with no duplicate channel and no record rewritten', async () => {
    const before = await client.getAll().prefix(keys.iocRecordsPrefix('linac-bpm@testhost')).exec();
    uploader = upload();
    await until('all channels active again', async () => {
      const s = await statuses();
      return s.size === 1 && s.has('Active');
    });
    const after = await client.getAll().prefix(keys.iocRecordsPrefix('linac-bpm@testhost')).exec();
    expect(after.kvs.map((kv) => kv.mod_revision)).toEqual(before.kvs.map((kv) => kv.mod_revision));
    const names = (await channels('~size=10000')).map((c) => c.name);
    expect(names).toEqual(allNames);
    // The mirror may show the commit before the uploader's log line has come through its stdout pipe.
    const up = uploader;
    await until('the upload is logged', () => up.output.join('').includes('"upload committed"'), 5000);
    expect(up.output.join('')).toContain('"written":0');
  });

  it('turns every channel Inactive at once on SIGTERM', async () => {
    const p = uploader!;
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    // The uploader deleted its liveness key before exiting: the mirror sees it as soon as the watch delivers it.
    const revision = Number((await client.get('/').exec()).header.revision);
    await mirror.waitFor(revision);
    const s = await statuses();
    expect([...s]).toEqual(['Inactive']);
  });
});
