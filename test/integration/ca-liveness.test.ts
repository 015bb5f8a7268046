/**
 * Liveness over Channel Access: an uploader with --ca-pv keeps its IOC's channels Active only while the real IOC
 * (EPICS softIoc) answers; the IOC killed while the uploader runs → Inactive; IOC back → Active.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { findSoftIoc } from '../support/softioc.js';

const DB = `record(ai, "CALIVE:HB") {
    field(DESC, "heartbeat")
    field(VAL, "1")
}
record(bo, "CALIVE:CMD") {
    field(DESC, "a command")
}
`;

describe('uploader liveness over Channel Access', () => {
  const build = findSoftIoc();
  const keys = new Keyspace(uniqueRoot('ca-liveness'));
  const iocId = 'calive@cahost';
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-ca-'));
  let client: Etcd3;
  let caEnv: Record<string, string>;
  let ioc: ChildProcess | undefined;
  let uploader: PvsyncProcess | undefined;

  const startIoc = (): ChildProcess => {
    if (build === undefined) throw new Error('softIoc is not built: run scripts/build-softioc.sh');
    // stdin stays open (a pipe we never end): softIoc's shell would exit at end of input.
    const child = spawn(build.softIoc, ['-d', join(dir, 'calive.db')], { cwd: dir, env: { ...process.env, ...caEnv }, stdio: ['pipe', 'ignore', 'ignore'] });
    return child;
  };
  const stopIoc = async (): Promise<void> => {
    const c = ioc;
    ioc = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  const alive = async (): Promise<boolean> => (await client.get(keys.alive(iocId)).string()) !== null;

  beforeAll(async () => {
    expect(build, 'softIoc is not built: run scripts/build-softioc.sh').toBeDefined();
    const [serverPort, repeaterPort] = await freePorts(2);
    caEnv = {
      EPICS_CA_AUTO_ADDR_LIST: 'NO', EPICS_CA_ADDR_LIST: '127.0.0.1', EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
      EPICS_CA_SERVER_PORT: String(serverPort), EPICS_CA_REPEATER_PORT: String(repeaterPort),
    };
    writeFileSync(join(dir, 'calive.db'), DB);
    writeFileSync(join(dir, 'st.cmd'), 'epicsEnvSet("IOCNAME", "calive")\ndbLoadRecords("calive.db")\niocInit\n');
    client = etcdClient();
  });

  afterAll(async () => {
    uploader?.child.kill('SIGKILL');
    await stopIoc();
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the records but keeps the IOC Inactive until it answers over CA', async () => {
    uploader = startPvsync(['upload', '--st-cmd', join(dir, 'st.cmd'), '--endpoints', testEndpoints().join(','),
      '--root', keys.root, '--ttl', '2', '--host', 'cahost', '--ca-pv', 'CALIVE:HB', '--ca-interval', '0.3', '--ca-grace', '1.5'], caEnv);
    await until('upload complete', async () => {
      const info = await client.get(keys.iocInfo(iocId)).string();
      return info !== null && (JSON.parse(info) as { state: string }).state === 'complete';
    });
    const records = await client.getAll().prefix(keys.iocRecordsPrefix(iocId)).keys();
    expect(records).toHaveLength(2);
    expect(await alive()).toBe(false);
    ioc = startIoc();
    await until('alive once the IOC answers', alive);
  });

  it('turns Inactive when the IOC dies while the uploader lives on, and Active when it returns', async () => {
    await stopIoc();
    await until('inactive after the IOC died', async () => !(await alive()));
    expect(uploader!.child.exitCode).toBeNull();
    expect(uploader!.output.join('')).toContain('IOC does not answer');
    ioc = startIoc();
    await until('alive again', alive);
  });
});
