// One option parser for every command: numbers, durations and lists, from flags, environment and config files.
// Every numeric option of every command is declared through it, and a bad value names the option and the value.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { agentSettingsFromEnv, readAgentConfigFile, resolveAgentSettings } from '../../../src/apps/archiver-config.js';
import { buildProgram, main } from '../../../src/apps/cli.js';
import {
  isParsedOption, parseList, parseOptionValue, readValue, type ValueRule,
} from '../../../src/apps/option-values.js';
import { testDir } from '../../support/temp-dir.js';

/** Every command of the program with its path (`['archiver', 'switchover']`). */
function commandsOf(cmd: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...commandsOf(c, [...path, c.name()])]);
}

/** Placeholders that announce a number, a duration or a list. */
const NUMERIC_ARG = /<(n|seconds|ms|port|bytes|days|list)>/;

/** The program with every action replaced by one that records the options it got (nothing starts). */
function inertProgram(): { program: Command; got: () => Record<string, unknown> } {
  const program = buildProgram().exitOverride();
  let last: Record<string, unknown> = {};
  for (const { cmd } of commandsOf(program)) {
    cmd.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    cmd.action((opts: Record<string, unknown>) => { last = opts; });
  }
  return { program, got: () => last };
}

describe('readValue', () => {
  it.each<[ValueRule, string | number, number]>([
    [{ kind: 'integer', min: 1 }, '10', 10],
    [{ kind: 'integer', min: 1 }, ' 7 ', 7],
    [{ kind: 'integer' }, '1e3', 1000],
    [{ kind: 'number', above: 0 }, '0.25', 0.25],
    [{ kind: 'seconds', above: 0 }, '10', 10],
    [{ kind: 'seconds', above: 0 }, '2.5s', 2.5],
    [{ kind: 'seconds', above: 0 }, '500ms', 0.5],
    [{ kind: 'seconds', above: 0 }, '1m', 60],
    [{ kind: 'seconds', above: 0 }, '1h', 3600],
    [{ kind: 'seconds', min: 0 }, 0, 0],
    [{ kind: 'ms', min: 1 }, '250', 250],
    [{ kind: 'ms', min: 1 }, '2s', 2000],
    [{ kind: 'port' }, '65535', 65535],
  ])('%j reads %j as %d', (rule, raw, value) => {
    expect(readValue(raw, rule)).toEqual({ ok: true, value });
  });

  it.each<[ValueRule, string | number]>([
    [{ kind: 'integer', min: 1 }, 'abc'],
    [{ kind: 'integer', min: 1 }, ''],
    [{ kind: 'integer', min: 1 }, '0'],
    [{ kind: 'integer', min: 1 }, '1.5'],
    [{ kind: 'integer' }, '12abc'],
    [{ kind: 'integer' }, '0x10'],
    [{ kind: 'integer' }, '9007199254740993'],
    [{ kind: 'number' }, 'Infinity'],
    [{ kind: 'number' }, Number.NaN],
    [{ kind: 'number', max: 3 }, '4'],
    [{ kind: 'seconds', above: 0 }, '0'],
    [{ kind: 'seconds', above: 0 }, '-1s'],
    [{ kind: 'seconds', above: 0 }, '5 minutes'],
    [{ kind: 'seconds', above: 0 }, '10d'],
    [{ kind: 'integer' }, '10s'],
    [{ kind: 'port' }, '0'],
    [{ kind: 'port' }, '65536'],
    [{ kind: 'port' }, '80.5'],
  ])('%j refuses %j', (rule, raw) => {
    expect(readValue(raw, rule).ok).toBe(false);
  });

  it('a refusal is a PVS_CONFIG error naming the option, what it wants and the value', () => {
    expect(() => parseOptionValue('--timeout', 'abc', { kind: 'seconds', above: 0 })).toThrow(expect.objectContaining({
      code: 'PVS_CONFIG', message: '--timeout must be a duration in seconds > 0 (10, 2.5s, 500ms, 1m), got "abc"',
    }) as Error);
  });

  it('lists drop blanks and can require items', () => {
    expect(parseList('--x', ' a, ,b ,')).toEqual(['a', 'b']);
    expect(parseList('--x', '')).toEqual([]);
    expect(() => parseList('--x', ' , ', 1)).toThrow(/--x must be a comma-separated list of at least 1 item, got " , "/);
  });
});

describe('every command', () => {
  afterEach(() => { vi.unstubAllEnvs(); });

  it('declares every numeric, duration and list option through the one parser', () => {
    const offenders: string[] = [];
    let numeric = 0;
    for (const { path, cmd } of commandsOf(buildProgram())) {
      for (const o of cmd.options as Option[]) {
        if (!NUMERIC_ARG.test(o.flags)) continue;
        numeric += 1;
        if (!isParsedOption(o)) offenders.push(`${path.join(' ')} ${o.flags}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(numeric).toBeGreaterThan(20); // the walk saw the commands (serve alone has a dozen)
  });

  it('refuses a bad value of every numeric option before the command runs, naming the option and the value', async () => {
    let checked = 0;
    for (const { path, cmd } of commandsOf(buildProgram())) {
      for (const o of cmd.options as Option[]) {
        if (!isParsedOption(o) || /<list>/.test(o.flags)) continue;
        const { program } = inertProgram();
        const flag = o.long ?? '';
        const err = await program.parseAsync(['node', 'pvsync', ...path, flag, 'abc']).then(() => null, (e: unknown) => e);
        expect(err, `${path.join(' ')} ${flag}`).toMatchObject({
          code: 'PVS_CONFIG', message: expect.stringMatching(new RegExp(`^${flag} .*must be .*, got "abc"$`)) as unknown,
        });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('hands the action numbers and lists, defaults included', async () => {
    const { program, got } = inertProgram();
    await program.parseAsync(['node', 'pvsync', 'serve', '--max-lag', '1500ms', '--info-tags', 'archive, alias,', '--endpoints', 'a:1,b:2']);
    expect(got()).toMatchObject({ maxLag: 1.5, infoTags: ['archive', 'alias'], endpoints: ['a:1', 'b:2'], port: 8080, maxSize: 1_000_000 });
    await program.parseAsync(['node', 'pvsync', 'archiver', 'switchover', '--timeout', '2.5']);
    expect(got()).toMatchObject({ timeout: 2.5 });
  });

  it('reads an option from its environment variable through the same parser', async () => {
    vi.stubEnv('PVSYNC_PORT', '9090');
    const ok = inertProgram();
    await ok.program.parseAsync(['node', 'pvsync', 'serve']);
    expect(ok.got()).toMatchObject({ port: 9090 });
    vi.stubEnv('PVSYNC_PORT', 'http');
    const { program } = inertProgram();
    await expect(program.parseAsync(['node', 'pvsync', 'serve'])).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: '--port (or env PVSYNC_PORT) must be a TCP port (1-65535), got "http"',
    });
  });

  it('`pvsync archiver switchover --timeout abc` exits 1 with the error, and asks etcd nothing', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
    const before = process.exitCode;
    try {
      await main(['node', 'pvsync', 'archiver', 'switchover', '--timeout', 'abc']);
      expect(process.exitCode).toBe(1);
    } finally {
      spy.mockRestore();
      process.exitCode = before;
    }
    expect(out.join('')).toBe('pvsync: PVS_CONFIG: --timeout must be a duration in seconds > 0 (10, 2.5s, 500ms, 1m), got "abc"\n');
  });
});

describe('archiver-agent settings from environment and file', () => {
  const cli = { node: 'n', start: ['a'], stop: ['b'] };

  it('an environment value goes through the same rules and names the variable', () => {
    expect(() => resolveAgentSettings(cli, agentSettingsFromEnv({ PVSYNC_ARCHIVER_HOOK_TIMEOUT: 'soon' }), {})).toThrow(expect.objectContaining({
      code: 'PVS_CONFIG', message: expect.stringContaining('--hook-timeout (or PVSYNC_ARCHIVER_HOOK_TIMEOUT): must be a duration in seconds > 0') as unknown,
    }) as Error);
    expect(resolveAgentSettings(cli, agentSettingsFromEnv({ PVSYNC_ARCHIVER_HOOK_TIMEOUT: '2m' }), {}).agent.hookTimeoutMs).toBe(120_000);
  });

  it('a file value with a unit is read as the flag would be', async () => {
    const dir = await testDir('pvsync-optv-');
    const file = join(dir, 'agent.yml');
    await writeFile(file, 'ttl: 6s\nhealth:\n  interval: 500ms\n');
    const s = resolveAgentSettings(cli, {}, readAgentConfigFile(file));
    expect(s.agent).toMatchObject({ ttlS: 6, healthIntervalMs: 500 });
  });
});
