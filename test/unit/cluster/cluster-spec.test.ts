import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  initialCluster, memberFlags, memberOf, parseClusterSpec, type ClusterSpec,
} from '../../../src/adapters/local-etcd/cluster-spec.js';
import { PvsError } from '../../../src/core/errors.js';
import { loadClusterSpec } from '../../../src/apps/config-files.js';

const YML = fileURLToPath(new URL('../../../etcd-cluster.yml', import.meta.url));

const valid = {
  token: 't',
  host: '127.0.0.1',
  members: [
    { name: 'a', clientPort: 2379, peerPort: 2380 },
    { name: 'b', clientPort: 22379, peerPort: 22380 },
    { name: 'c', clientPort: 32379, peerPort: 32380 },
  ],
  heartbeatIntervalMs: 50,
  electionTimeoutMs: 250,
  preVote: true,
  autoCompaction: { mode: 'revision', retention: '10000' },
  quotaBackendBytes: 2 ** 31,
};

function withChange(change: (doc: Record<string, unknown>) => void): Record<string, unknown> {
  const doc = structuredClone(valid) as unknown as Record<string, unknown>;
  change(doc);
  return doc;
}

function members(doc: Record<string, unknown>): Array<Record<string, unknown>> {
  return doc['members'] as Array<Record<string, unknown>>;
}

function errorOf(fn: () => unknown): PvsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PvsError) return err;
    throw err;
  }
  throw new Error('expected a PvsError');
}

describe('etcd-cluster.yml', () => {
  it('describes 3 loopback members on the documented ports with fast failover', async () => {
    const spec = await loadClusterSpec(YML);
    expect(spec.host).toBe('127.0.0.1');
    expect(spec.members.map((m) => [m.clientPort, m.peerPort])).toEqual([[2379, 2380], [22379, 22380], [32379, 32380]]);
    expect(spec.members.every((m) => m.clientPort < 32768 && m.peerPort < 32768)).toBe(true);
    expect([spec.heartbeatIntervalMs, spec.electionTimeoutMs, spec.preVote]).toEqual([50, 250, true]);
    expect(spec.autoCompaction).toEqual({ mode: 'revision', retention: '10000' });
    expect(spec.quotaBackendBytes).toBeGreaterThan(0);
    expect(spec.token).not.toBe('');
  });
});

describe('parseClusterSpec', () => {
  it('accepts a valid document, fills defaults and normalises a numeric retention', () => {
    const spec = parseClusterSpec(withChange((d) => { d['autoCompaction'] = { mode: 'periodic', retention: 1 }; }), 'x.yml');
    expect(spec.snapshotCount).toBe(10_000);
    expect(spec.autoCompaction.retention).toBe('1');
  });

  const cases: Array<[string, (doc: Record<string, unknown>) => void, string]> = [
    ['missing token', (d) => { delete d['token']; }, 'token:'],
    ['port as a string', (d) => { members(d)[1]!['clientPort'] = '22379'; }, 'members.1.clientPort:'],
    ['port out of range', (d) => { members(d)[2]!['peerPort'] = 70000; }, 'members.2.peerPort:'],
    ['bad member name', (d) => { members(d)[0]!['name'] = '../x'; }, 'members.0.name:'],
    ['duplicate member name', (d) => { members(d)[1]!['name'] = 'a'; }, 'members.1.name: duplicate "a"'],
    ['duplicate port', (d) => { members(d)[2]!['peerPort'] = 2379; }, 'members.2.peerPort: port 2379 used twice'],
    ['no members', (d) => { d['members'] = []; }, 'members:'],
    ['election < 5 x heartbeat', (d) => { d['electionTimeoutMs'] = 200; }, 'electionTimeoutMs: must be at least 5 x'],
    ['unknown compaction mode', (d) => { d['autoCompaction'] = { mode: 'daily', retention: '1' }; }, 'autoCompaction.mode:'],
    ['bad retention', (d) => { d['autoCompaction'] = { mode: 'periodic', retention: 'often' }; }, 'autoCompaction.retention:'],
    ['preVote not boolean', (d) => { d['preVote'] = 'yes'; }, 'preVote:'],
    ['negative quota', (d) => { d['quotaBackendBytes'] = -1; }, 'quotaBackendBytes:'],
    ['unknown top-level field', (d) => { d['heartbeat'] = 50; }, '(document): Unrecognized key: "heartbeat"'],
    ['unknown member field', (d) => { members(d)[0]!['port'] = 1; }, 'members.0: Unrecognized key: "port"'],
  ];

  it.each(cases)('rejects %s, naming the field', (_label, change, expected) => {
    const err = errorOf(() => parseClusterSpec(withChange(change), 'cluster.yml'));
    expect(err.code).toBe('PVS_CONFIG');
    expect(err.message.startsWith('cluster.yml: ')).toBe(true);
    expect(err.message).toContain(expected);
  });

  it('rejects a document that is not a mapping', () => {
    expect(errorOf(() => parseClusterSpec('just text', 'c.yml')).message).toMatch(/^c\.yml: \(document\): /);
  });
});

describe('loadClusterSpec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads YAML', async () => {
    expect((await loadClusterSpec(file('ok.yml', stringify(valid)))).members).toHaveLength(3);
  });

  it('names the file for unreadable, non-YAML and invalid input', async () => {
    await expect(loadClusterSpec(join(dir, 'missing.yml'))).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringContaining('missing.yml: cannot read'),
    });
    await expect(loadClusterSpec(file('bad.yml', 'token: [unclosed'))).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringContaining('bad.yml: not valid YAML'),
    });
    await expect(loadClusterSpec(file('invalid.yml', stringify({ ...valid, host: 'bad host!' })))).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringContaining('invalid.yml: host:'),
    });
  });
});

describe('memberFlags', () => {
  const spec: ClusterSpec = parseClusterSpec(valid, 'v');

  it('passes every setting of the spec as an etcd 3.4 flag', () => {
    const flags = memberFlags(spec, memberOf(spec, 'b'), '/d/b', 'existing');
    expect(flags).toEqual([
      '--name=b',
      '--data-dir=/d/b',
      '--listen-client-urls=http://127.0.0.1:22379',
      '--advertise-client-urls=http://127.0.0.1:22379',
      '--listen-peer-urls=http://127.0.0.1:22380',
      '--initial-advertise-peer-urls=http://127.0.0.1:22380',
      '--initial-cluster=a=http://127.0.0.1:2380,b=http://127.0.0.1:22380,c=http://127.0.0.1:32380',
      '--initial-cluster-token=t',
      '--initial-cluster-state=existing',
      '--heartbeat-interval=50',
      '--election-timeout=250',
      '--pre-vote=true',
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=10000',
      '--quota-backend-bytes=2147483648',
      '--snapshot-count=10000',
      '--enable-v2=false',
      '--logger=zap',
      '--log-outputs=stderr',
    ]);
    expect(initialCluster(spec)).toBe('a=http://127.0.0.1:2380,b=http://127.0.0.1:22380,c=http://127.0.0.1:32380');
  });

  it('memberOf names the known members when asked for an unknown one', () => {
    const err = errorOf(() => memberOf(spec, 'z'));
    expect(err.code).toBe('PVS_CLUSTER');
    expect(err.message).toContain('members: a, b, c');
  });
});
