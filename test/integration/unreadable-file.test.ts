/**
 * An unreadable .db file loses nothing, against the real cluster with the real uploader process: an example IOC
 * is uploaded, one of its database files disappears and the uploader restarts: that file's records stay Active
 * and untouched, the IOC's info names the error. Restored, the next upload is a normal one. `--strict` refuses
 * to write anything while a file is missing. A running uploader re-reads on its own while a file is missing and
 * on SIGHUP.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mirror } from '../../src/adapters/etcd/mirror.js';
import { nodeFileSource } from '../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../src/core/dbfile/startup.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { IocInfoSchema, StoredRecordSchema, type CfChannel, type IocInfo } from '../../src/core/model.js';
import { testEndpoints, uniqueRoot } from '../support/cluster.js';
import { startMirroredApp, type MirroredApp } from '../support/mirrored-app.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

const IOC = 'linac-bpm@testhost';

describe('an unreadable database file keeps its records', () => {
  const keys = new Keyspace(uniqueRoot('unreadable'));
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-unreadable-'));
  const stCmd = join(dir, 'st.cmd');
  const systemDb = join(dir, 'db', 'bpm-system.db');
  const hidden = join(dir, 'bpm-system.db.away');
  let served: MirroredApp | undefined;
  let client: Etcd3;
  let mirror: Mirror;
  let app: FastifyInstance;
  let uploader: PvsyncProcess | undefined;
  let systemNames: string[] = [];
  let allNames: string[] = [];

  const upload = (root = keys.root, ...extra: string[]): PvsyncProcess => startPvsync(['upload', '--st-cmd', stCmd,
    '--endpoints', testEndpoints().join(','), '--root', root, '--ttl', '2', '--host', 'testhost', ...extra]);
  const stop = async (): Promise<void> => {
    const p = uploader;
    uploader = undefined;
    if (p === undefined) return;
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  };
  const channels = async (query: string): Promise<CfChannel[]> => {
    const res = await app.inject({ method: 'GET', url: `/ChannelFinder/resources/channels?${query}` });
    expect(res.statusCode).toBe(200);
    return res.json<CfChannel[]>();
  };
  const prop = (c: CfChannel | undefined, name: string): string | null | undefined => c?.properties.find((p) => p.name === name)?.value;
  const info = async (): Promise<IocInfo> => IocInfoSchema.parse(JSON.parse((await client.get(keys.iocInfo(IOC)).string()) ?? 'null'));
  const recordKvs = async () => (await client.getAll().prefix(keys.iocRecordsPrefix(IOC)).exec()).kvs;
  const allActive = async (): Promise<boolean> => {
    const cs = await channels('~size=10000');
    return cs.length === allNames.length && cs.every((c) => prop(c, 'pvStatus') === 'Active');
  };

  beforeAll(async () => {
    cpSync('examples/linac-bpm', dir, { recursive: true });
    const parsed = parseStartup(stCmd, { files: nodeFileSource(), env: {} });
    systemNames = parsed.records.filter((r) => r.file === systemDb).map((r) => r.name);
    allNames = [...parsed.records.map((r) => r.name), ...parsed.records.flatMap((r) => r.aliases)].sort();
    expect(systemNames.length).toBeGreaterThan(0);
    served = await startMirroredApp(keys);
    ({ client, mirror, app } = served);
  });

  afterAll(async () => {
    uploader?.child.kill('SIGKILL');
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every record with the file and line where it is defined', async () => {
    uploader = upload();
    await until('all channels active', allActive);
    const sys = (await channels(`~name=${encodeURIComponent(systemNames[0] as string)}`))[0];
    expect(prop(sys, 'recordFile')).toBe(systemDb);
    expect(Number(prop(sys, 'recordLine'))).toBeGreaterThan(0);
    const bpm = (await channels('~name=LINAC:BPM01:X'))[0];
    expect(prop(bpm, 'recordFile')).toBe(join(dir, 'db', 'bpm.template'));
    expect((await info()).errors).toBeUndefined();
  });

  it('keeps the records of a file that cannot be read Active and untouched, and publishes the error', async () => {
    await stop();
    const before = new Map((await recordKvs()).map((kv) => [kv.key.toString(), kv.mod_revision]));
    renameSync(systemDb, hidden);
    uploader = upload();
    await until('upload with the error published', async () => {
      const i = await info();
      return i.state === 'complete' && i.errors !== undefined && (await client.get(keys.alive(IOC)).string()) !== null;
    });
    await mirror.waitFor(Number((await client.get(keys.alive(IOC)).exec()).header.revision));
    expect(await allActive()).toBe(true);

    const i = await info();
    expect(i.errors).toEqual([expect.objectContaining({
      code: 'PVS_DB_FILE', file: stCmd, line: 17, unreadable: systemDb,
    }) as unknown]);
    expect(i.errors?.[0]?.message).toContain("cannot open database file 'bpm-system.db'");
    expect(i.records).toBe(before.size);

    // not one record key was written: the system records are exactly as published, none is gone
    const after = await recordKvs();
    expect(after.map((kv) => [kv.key.toString(), kv.mod_revision])).toEqual([...before]);
    for (const kv of after) expect(StoredRecordSchema.parse(JSON.parse(kv.value.toString())).gone).toBeUndefined();
    for (const name of systemNames) expect(prop((await channels(`~name=${encodeURIComponent(name)}`))[0], 'pvStatus')).toBe('Active');

    const log = uploader.output.join('');
    expect(log).toContain('IOC configuration file cannot be read');
    expect(log).toContain('"kept":');
  });

  it('--strict writes nothing while the file is missing, and says which file and line', async () => {
    const fresh = uniqueRoot('unreadable-strict');
    const rev = Number((await client.get('/').exec()).header.revision);
    const p = upload(fresh, '--strict');
    expect(await p.exited).toBe(1);
    const out = p.output.join('');
    expect(out).toContain('PVS_DB_STRICT');
    expect(out).toContain(`${stCmd}:17:`);
    expect(out).toContain('bpm-system.db');
    expect((await client.getAll().prefix(fresh).keys()).length).toBe(0);
    // nor under the IOC's own root: nothing in the cluster changed
    const p2 = upload(keys.root, '--strict');
    expect(await p2.exited).toBe(1);
    expect(Number((await client.get('/').exec()).header.revision)).toBe(rev);
  });

  it('reconciles normally once the file is readable again', async () => {
    await stop();
    renameSync(hidden, systemDb);
    uploader = upload();
    await until('upload without errors', async () => {
      const i = await info();
      return i.state === 'complete' && i.errors === undefined && (await client.get(keys.alive(IOC)).string()) !== null;
    });
    await mirror.waitFor(Number((await client.get(keys.alive(IOC)).exec()).header.revision));
    expect(await allActive()).toBe(true);
    await until('upload logged', () => uploader?.output.join('').includes('upload committed') ?? false);
    expect(uploader.output.join('')).toContain('"written":0');
    await stop();

    // and a record that really left the file is marked gone as usual
    const parsed = parseStartup(stCmd, { files: nodeFileSource(), env: {} });
    const victim = systemNames[0] as string;
    const text = readFileSync(systemDb, 'utf8');
    const line = parsed.records.find((r) => r.name === victim)?.line ?? 0;
    const lines = text.split('\n');
    expect(lines[line - 1]).toContain('record(');
    lines[line - 1] = (lines[line - 1] as string).replace(/record\(\s*([^,]+),\s*"[^"]*"/, 'record($1, "LINAC:RENAMED")');
    writeFileSync(systemDb, lines.join('\n'));
    uploader = upload();
    await until('the renamed record is published', async () => (await channels('~name=LINAC:RENAMED')).length === 1);
    const gone = StoredRecordSchema.parse(JSON.parse((await client.get(keys.iocRecord(IOC, victim)).string()) ?? 'null'));
    expect(gone.gone).toBe(true);
    await stop();
  });

  it('a running uploader re-reads by itself once the file is readable again, and on SIGHUP', async () => {
    const stored = async (name: string) => StoredRecordSchema.parse(JSON.parse((await client.get(keys.iocRecord(IOC, name)).string()) ?? 'null'));
    renameSync(systemDb, hidden);
    uploader = upload(keys.root, '--reread-interval', '0.5');
    await until('upload with the error published', async () => {
      const i = await info();
      return i.state === 'complete' && i.errors !== undefined && (await client.get(keys.alive(IOC)).string()) !== null;
    });
    // the file comes back under the running uploader: its next re-read publishes the difference by itself
    renameSync(hidden, systemDb);
    await until('errors cleared without a restart', async () => (await info()).errors === undefined, 60_000);
    await mirror.waitFor(Number((await client.get(keys.iocInfo(IOC)).exec()).header.revision));
    expect((await channels('~name=LINAC:RENAMED&pvStatus=Active')).length).toBe(1);
    expect(uploader.output.join('')).toContain('IOC configuration re-read: changed, publishing the difference');

    // the file is readable: no timed re-reads any more, but SIGHUP re-reads at once
    const victim = systemNames[0] as string;
    writeFileSync(systemDb, readFileSync(systemDb, 'utf8').replace('"LINAC:RENAMED"', `"${victim}"`));
    uploader.child.kill('SIGHUP');
    await until('the record renamed back is published after SIGHUP', async () =>
      (await stored(victim)).gone === undefined && (await stored('LINAC:RENAMED')).gone === true, 60_000);
    await mirror.waitFor(Number((await client.get(keys.iocRecord(IOC, victim)).exec()).header.revision));
    expect(prop((await channels(`~name=${encodeURIComponent(victim)}`))[0], 'pvStatus')).toBe('Active');
    expect(uploader.child.exitCode).toBeNull(); // SIGHUP did not end it
    await stop();
  });
});
