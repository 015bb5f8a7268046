import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { formatStatus, register } from '../../../src/apps/commands/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'pvsync-cluster-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const YML = fileURLToPath(new URL('../../../etcd-cluster.yml', import.meta.url));

async function run(...args: string[]): Promise<string> {
  const program = new Command('pvsync').exitOverride();
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'pvsync', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('pvsync cluster', () => {
  const savedExitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = savedExitCode;
  });

  it('fails with PVS_CONFIG naming the file and field of an invalid config', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, readFileSync(YML, 'utf8').replace('electionTimeoutMs: 250', 'electionTimeoutMs: 100'));
    await expect(run('cluster', 'status', '--config', bad, '--state-dir', dir)).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringContaining(`${bad}: electionTimeoutMs: must be at least 5 x`),
    });
  });

  it('status of a cluster that never ran: every member down, exit code 1, same with --json', async () => {
    const state = join(dir, 'never-ran');
    const table = await run('cluster', 'status', '--config', YML, '--state-dir', state);
    expect(table.split('\n')[0]).toMatch(/^MEMBER\s+PID\s+ALIVE\s+HEALTHY\s+LEADER\s+DB SIZE\s+ENDPOINT$/);
    expect(table).toMatch(/^etcd-2\s+-\s+no\s+no\s+-\s+-\s+http:\/\/127\.0\.0\.1:22379$/m);
    expect(process.exitCode).toBe(1);
    const json = JSON.parse(await run('cluster', 'status', '--json', '--config', YML, '--state-dir', state)) as unknown[];
    expect(json).toHaveLength(3);
    expect(json[0]).toEqual({
      name: 'etcd-1', clientUrl: 'http://127.0.0.1:2379', pid: null, alive: false, healthy: false, leader: false,
      dbSizeBytes: null,
    });
  });
});

describe('formatStatus', () => {
  it('aligns columns and shows sizes in binary units', () => {
    const text = formatStatus([
      { name: 'etcd-1', clientUrl: 'http://h:2379', pid: 12, alive: true, healthy: true, leader: true, dbSizeBytes: 20480 },
      { name: 'etcd-22', clientUrl: 'http://h:22379', pid: 3456, alive: true, healthy: false, leader: false, dbSizeBytes: 3 * 1024 ** 2 },
    ]);
    expect(text).toBe([
      'MEMBER   PID   ALIVE  HEALTHY  LEADER  DB SIZE  ENDPOINT',
      'etcd-1   12    yes    yes      leader  20 KiB   http://h:2379',
      'etcd-22  3456  yes    no       -       3.0 MiB  http://h:22379',
      '',
    ].join('\n'));
  });
});
