import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { commandCheck, diskFreeCheck, processAliveCheck } from '../../../src/adapters/health/checks.js';
import { runStartHooks, runStopHooks } from '../../../src/adapters/hooks/hook-runner.js';
import { runCommand } from '../../../src/adapters/hooks/run-command.js';
import { agentSettingsFromEnv, parseDiskSpec, readAgentConfigFile, resolveAgentSettings } from '../../../src/apps/archiver-config.js';
import { isPvsError } from '../../../src/core/errors.js';
import { testDir } from '../../support/temp-dir.js';

const log = pino({ level: 'silent' });

describe('agent settings', () => {
  it('options override environment, which overrides the file, which overrides defaults', async () => {
    const dir = await testDir('pvsync-cfg-');
    const file = join(dir, 'agent.yml');
    await writeFile(file, 'node: from-file\ngroup: g-file\nttl: 9\nstart: [s1, s2]\nstop: [x]\nhealth:\n  disk: /data:10G\n');
    const env = agentSettingsFromEnv({ PVSYNC_ARCHIVER_GROUP: 'g-env', PVSYNC_ARCHIVER_STOP: 'stop-a\nstop-b\n' });
    const s = resolveAgentSettings({ node: 'cli', start: [] }, env, readAgentConfigFile(file));
    expect(s.agent).toMatchObject({ node: 'cli', group: 'g-env', ttlS: 9, start: ['s1', 's2'], stop: ['stop-a', 'stop-b'] });
    expect(s.agent.marginMs).toBe(2700);
    expect(s.health.disk).toEqual({ path: '/data', minBytes: 10 * 2 ** 30 });
  });

  it('refuses a missing node, missing hooks and a TTL below etcd\'s minimum', () => {
    const bad = [
      { start: ['a'], stop: ['b'] },
      { node: 'n', stop: ['b'] },
      { node: 'n', start: ['a'], stop: ['b'], ttl: '1' },
      { node: 'n', start: ['a'], stop: ['b'], ttl: '2', margin: '2' },
    ];
    for (const cli of bad) {
      let err: unknown;
      try { resolveAgentSettings(cli, {}, {}); } catch (e) { err = e; }
      expect(isPvsError(err, 'PVS_CONFIG')).toBe(true);
    }
  });

  it('parses disk specs', () => {
    expect(parseDiskSpec('/a:b:1024')).toEqual({ path: '/a:b', minBytes: 1024 });
    expect(parseDiskSpec('/d:1.5M')).toEqual({ path: '/d', minBytes: 1572864 });
    expect(() => parseDiskSpec('/d')).toThrow();
  });
});

describe('hooks', () => {
  it('start hooks stop at the first failure; stop hooks all run', async () => {
    const dir = await testDir('pvsync-hooks-');
    const f = join(dir, 'trace');
    const opts = { timeoutMs: 5000, env: { PATH: process.env['PATH'] ?? '', PVSYNC_FENCING_TOKEN: '42' }, log };
    const st = await runStartHooks([`echo s1 >>${f}`, 'exit 3', `echo s3 >>${f}`], opts);
    expect(st.ok).toBe(false);
    expect(st.outcomes.map((o) => o.code)).toEqual([0, 3]);
    const sp = await runStopHooks(['exit 1', `echo "t$PVSYNC_FENCING_TOKEN" >>${f}`], opts);
    expect(sp.ok).toBe(false);
    expect(sp.outcomes).toHaveLength(2);
    expect(await readFile(f, 'utf8')).toBe('s1\nt42\n');
  });

  it('a hook over its time limit is killed with everything it started in the foreground', async () => {
    const r = await runCommand('sleep 30; echo never', { timeoutMs: 200 });
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: 'SIGKILL' });
  });

  it('an abort kills a running hook', async () => {
    const ac = new AbortController();
    const p = runCommand('sleep 30', { timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    expect(await p).toMatchObject({ ok: false, aborted: true });
  });

  it('hands output over line by line', async () => {
    const lines: string[] = [];
    await runCommand('printf "a\\nb\\n"; printf c >&2', { timeoutMs: 5000, onLine: (s, l) => lines.push(`${s}:${l}`) });
    expect(lines.sort()).toEqual(['stderr:c', 'stdout:a', 'stdout:b']);
  });
});

describe('health checks', () => {
  it('process alive from a pid file', async () => {
    const dir = await testDir('pvsync-health-');
    const f = join(dir, 'pid');
    await writeFile(f, String(process.pid));
    expect((await processAliveCheck(f).run()).ok).toBe(true);
    await writeFile(f, '999999999');
    expect((await processAliveCheck(f).run()).ok).toBe(false);
    expect((await processAliveCheck(join(dir, 'none')).run()).ok).toBe(false);
  });

  it('disk free and custom command', async () => {
    expect((await diskFreeCheck(tmpdir(), 1).run()).ok).toBe(true);
    expect((await diskFreeCheck(tmpdir(), Number.MAX_SAFE_INTEGER).run()).ok).toBe(false);
    expect(await commandCheck('echo fine', 2000, runCommand).run()).toEqual({ ok: true, detail: 'exit 0: fine' });
    expect((await commandCheck('echo bad; exit 2', 2000, runCommand).run())).toEqual({ ok: false, detail: 'exit 2: bad' });
  });
});
