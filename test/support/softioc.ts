/**
 * Runs EPICS Base's real softIoc (built by scripts/build-softioc.sh) on a fixture st.cmd and reads back what it
 * holds: records with type and DESC (`dbl "" "RTYP DESC"`), aliases (`dbla`) and info tags (`dbli "*"`).
 * The IOC is confined to 127.0.0.1 on free ports below 32768 and killed if it does not exit in time.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { freePorts } from './free-ports.js';

/** EPICS Base version the reference build is made from (Debian 12's `epics-base` source package). */
export const SOFTIOC_EPICS_VERSION = '7.0.3.1';

/** Where a built softIoc lives: the binary, the dir holding softIoc.dbd, and the EPICS_BASE top above both. */
export interface SoftIocBuild {
  readonly softIoc: string;
  readonly dbdDir: string;
  readonly epicsBase: string;
}

/** What the IOC held after running the script, plus everything it printed. */
export interface SoftIocDump {
  readonly records: { name: string; type: string; desc: string }[];
  readonly aliases: { alias: string; record: string }[];
  readonly infos: { record: string; key: string; value: string }[];
  /** Lines of the IOC's error and warning output (stderr, and stdout lines that read as errors or warnings). */
  readonly messages: string[];
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Options for one run: extra environment (as the IOC would see it), a kill timeout, and whether to stop the script
 * at its first `iocInit` line (default true). Base 7.0.3.1 still accepts dbLoadRecords after iocInit (later Base
 * refuses it, and reccaster has uploaded the record list by then), so the state at iocInit is the reference.
 */
export interface SoftIocRunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly untilIocInit?: boolean;
}

/** A top-level `iocInit` line of a startup script (with or without parentheses, maybe a trailing comment). */
const IOC_INIT_LINE = /^\s*iocInit\s*(\(\s*\))?\s*(#.*)?$/;

/** The script cut after its first top-level iocInit line (the whole script when it has none). */
export function scriptUntilIocInit(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => IOC_INIT_LINE.test(l.replace(/\r$/, '')));
  return at < 0 ? text : `${lines.slice(0, at + 1).join('\n')}\n`;
}

/** The cache directory scripts/build-softioc.sh builds into (PVSYNC_SOFTIOC_CACHE overrides it). */
export function softIocCacheDir(): string {
  return process.env['PVSYNC_SOFTIOC_CACHE'] ?? `/var/cache/pvsync/epics-base-${SOFTIOC_EPICS_VERSION}`;
}

/** The cached softIoc build, or `undefined` when scripts/build-softioc.sh has not run on this machine. */
export function findSoftIoc(): SoftIocBuild | undefined {
  const meta = join(softIocCacheDir(), 'softioc.json');
  if (!existsSync(meta)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(meta, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { softIoc, dbdDir } = parsed as { softIoc?: unknown; dbdDir?: unknown };
  if (typeof softIoc !== 'string' || typeof dbdDir !== 'string') return undefined;
  if (!existsSync(softIoc) || !existsSync(join(dbdDir, 'softIoc.dbd'))) return undefined;
  return { softIoc, dbdDir, epicsBase: resolve(dbdDir, '..') };
}

/** The commands fed on stdin once the script has run; their output is what the dump is read from. */
const PROMPT = '@@pvsync-ioc> ';
const COMMANDS = ['dbl "" "RTYP DESC"', 'dbla', 'dbli "*"'] as const;

/** Lines of softIoc output that report a problem (the IOC has no fixed format for them, so match by wording). */
const PROBLEM = /error|warning|illegal|can't|cannot|could not|not found|undefined|refused|failed|unknown|not loaded|syntax|duplicate|no such/i;

/** softIoc lines that every fixture prints (the st.cmd re-registers what softIoc already did; softIoc inits again). */
const BENIGN = new Set([
  'Warning: Registration already done.',
  'registryFunctionRefAdd: could not register asSubInit',
  'Starting iocInit',
  'iocRun: All initialization complete',
  'iocBuild: IOC can only be initialized from uninitialized or stopped state',
]);

/**
 * Run softIoc on `stCmd` with the working directory set to the script's directory, as IOCs are started.
 * Resolves once the IOC has exited after `exit`; rejects (after killing it) when it runs past the timeout.
 */
export async function runSoftIoc(build: SoftIocBuild, stCmd: string, options: SoftIocRunOptions = {}): Promise<SoftIocDump> {
  const [serverPort, repeaterPort] = await freePorts(2);
  if (serverPort === undefined || repeaterPort === undefined) throw new Error('no free ports for the softIoc');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    EPICS_BASE: build.epicsBase,
    ...options.env,
    IOCSH_PS1: PROMPT,
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_ADDR_LIST: '127.0.0.1',
    EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
    EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
    EPICS_CA_SERVER_PORT: String(serverPort),
    EPICS_CA_REPEATER_PORT: String(repeaterPort),
  };
  const original = resolve(stCmd);
  // The cut script lives in a temporary directory; the IOC still runs in the original script's directory.
  const tmp = mkdtempSync(join(tmpdir(), 'pvsync-softioc-'));
  let script = original;
  if (options.untilIocInit ?? true) {
    script = join(tmp, basename(original));
    writeFileSync(script, scriptUntilIocInit(readFileSync(original, 'utf8')));
  }
  try {
    return await runScript(build, script, dirname(original), env, options.timeoutMs ?? 20_000);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function runScript(
  build: SoftIocBuild, script: string, cwd: string, env: Record<string, string>, timeoutMs: number,
): Promise<SoftIocDump> {
  const child = spawn(build.softIoc, [script], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  child.stdin.on('error', () => { /* the IOC may exit before reading everything */ });
  child.stdin.end(`${COMMANDS.join('\n')}\nexit\n`);

  await new Promise<void>((resolveRun, rejectRun) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectRun(new Error(`softIoc on ${script} did not exit within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      rejectRun(err);
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolveRun();
    });
  });
  return { ...parseSoftIocOutput(stdout, stderr), stdout, stderr };
}

/** Split stdout into the start-up log and the output of each command fed on stdin (keyed by the command). */
function sections(stdout: string): { startup: string[]; byCommand: Map<string, string[]> } {
  const startup: string[] = [];
  const byCommand = new Map<string, string[]>();
  let current = startup;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(PROMPT)) {
      current = [];
      byCommand.set(line.slice(PROMPT.length).trim(), current);
    } else {
      current.push(line);
    }
  }
  return { startup, byCommand };
}

/**
 * Join the continuation lines of a listing: a value holding a newline prints over several lines, so a line that
 * does not start a new entry belongs to the entry before it.
 */
function entries(lines: readonly string[], startsEntry: RegExp): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (startsEntry.test(line) || out.length === 0) out.push(line);
    else out[out.length - 1] += `\n${line}`;
  }
  return out.filter((e) => e !== '');
}

const DBL_LINE = /^(.+?), "([^"]*)", "([\s\S]*)"$/;
const DBLA_LINE = /^(\S+) -> (\S+)$/;
const DBLI_LINE = /^(\S+) info\(([^,]+), "([\s\S]*)"(?:, 0x[0-9a-f]+|, \(nil\))?\)$/;

/** Parse what softIoc printed for the fed commands into records, aliases and infos; aliases are not records. */
export function parseSoftIocOutput(stdout: string, stderr: string): Omit<SoftIocDump, 'stdout' | 'stderr'> {
  const { startup, byCommand } = sections(stdout);
  const section = (cmd: string): string[] => {
    const lines = byCommand.get(cmd);
    if (lines === undefined) throw new Error(`softIoc printed no output section for "${cmd}"\n${stdout}`);
    return lines;
  };

  const aliases: SoftIocDump['aliases'] = [];
  for (const e of entries(section('dbla'), DBLA_LINE)) {
    const m = DBLA_LINE.exec(e);
    if (m?.[1] === undefined || m[2] === undefined) throw new Error(`unreadable dbla line: ${e}`);
    aliases.push({ alias: m[1], record: m[2] });
  }
  const aliasNames = new Set(aliases.map((a) => a.alias));

  const records: SoftIocDump['records'] = [];
  const dblLines = section(COMMANDS[0]).filter((l) => l !== 'No record type');
  for (const e of entries(dblLines, /^.+?, "[^"]*", "/)) {
    const m = DBL_LINE.exec(e);
    if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) throw new Error(`unreadable dbl line: ${e}`);
    if (!aliasNames.has(m[1])) records.push({ name: m[1], type: m[2], desc: m[3] });
  }

  const infos: SoftIocDump['infos'] = [];
  for (const e of entries(section(COMMANDS[2]), /^\S+ info\(/)) {
    const m = DBLI_LINE.exec(e);
    if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) throw new Error(`unreadable dbli line: ${e}`);
    infos.push({ record: m[1], key: m[2], value: m[3] });
  }

  const messages = [
    ...startup.filter((l) => !l.startsWith('#') && PROBLEM.test(l)),
    ...stderr.split('\n').filter((l) => l.trim() !== ''),
  ].filter((l) => !BENIGN.has(l));
  return { records, aliases, infos, messages };
}

/** fixture.json of a fixture IOC: what it covers, where its st.cmd is, and the environment it starts with. */
const FixtureFileSchema = z.object({
  about: z.string(),
  stCmd: z.string().default('st.cmd'),
  env: z.record(z.string(), z.string()).default({}),
});

/** A fixture IOC under test/fixtures/iocs: `@DIR@` in its env values is replaced by its absolute directory. */
export interface IocFixture {
  readonly name: string;
  readonly dir: string;
  readonly about: string;
  readonly stCmd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Every fixture IOC under `root` (one directory each, with a fixture.json), sorted by name. */
export function listIocFixtures(root: string): IocFixture[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'fixture.json')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = resolve(root, name);
      const file = FixtureFileSchema.parse(JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')));
      const env = Object.fromEntries(Object.entries(file.env).map(([k, v]) => [k, v.replaceAll('@DIR@', dir)]));
      return { name, dir, about: file.about, stCmd: join(dir, file.stCmd), env };
    });
}
