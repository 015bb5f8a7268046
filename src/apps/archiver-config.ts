/**
 * Configuration of `pvsync archiver-agent`: command-line options override PVSYNC_ARCHIVER_* environment variables,
 * which override a YAML/JSON config file (`--config`), which overrides defaults. Validated once with zod.
 */
import { z } from 'zod';
import { loadConfigFileSync } from '../adapters/yaml/config-file.js';
import { DEFAULT_HEALTH_POLICY } from '../core/election/health.js';
import { SWITCHOVER_HOLD_BACK_MS } from '../core/election/decide.js';
import { defaultMarginMs } from '../core/election/lease-clock.js';
import { PvsError } from '../core/errors.js';
import { ROOT } from '../core/keyspace.js';
import type { AgentConfig } from './archiver-agent-config.js';
import { POSITIVE_SECONDS, parseList, zValue } from './option-values.js';

/** The agent's settings as options, environment and file give them (all optional until merged). */
export interface RawAgentSettings {
  node?: string | undefined;
  group?: string | undefined;
  root?: string | undefined;
  ttl?: string | number | undefined;
  margin?: string | number | undefined;
  start?: readonly string[] | undefined;
  stop?: readonly string[] | undefined;
  hookTimeout?: string | number | undefined;
  healthUrl?: string | undefined;
  healthCmd?: string | undefined;
  healthDisk?: string | undefined;
  healthPidFile?: string | undefined;
  healthInterval?: string | number | undefined;
  healthGrace?: string | number | undefined;
  healthTimeout?: string | number | undefined;
  mgmtUrl?: string | undefined;
  retrievalUrl?: string | undefined;
  dataRetrievalUrl?: string | undefined;
  watchdogFile?: string | undefined;
  endpoints?: string | readonly string[] | undefined;
}

/** Everything the CLI needs to start an agent: its config, health check settings and etcd endpoints. */
export interface ResolvedAgentSettings {
  readonly agent: AgentConfig;
  readonly health: {
    readonly url?: string;
    readonly cmd?: string;
    readonly disk?: { readonly path: string; readonly minBytes: number };
    readonly pidFile?: string;
    readonly timeoutMs: number;
  };
  readonly endpoints: readonly string[] | undefined;
}

const seconds = zValue(POSITIVE_SECONDS);
const nonNegativeSeconds = zValue({ kind: 'seconds', min: 0 });
const FileSchema = z.object({
  node: z.string(), group: z.string(), root: z.string(), ttl: seconds, margin: seconds,
  start: z.array(z.string()), stop: z.array(z.string()), hookTimeout: seconds,
  health: z.object({
    url: z.string(), cmd: z.string(), disk: z.string(), pidFile: z.string(),
    interval: seconds, grace: nonNegativeSeconds, timeout: seconds,
  }).partial(),
  mgmtUrl: z.string(), retrievalUrl: z.string(), dataRetrievalUrl: z.string(), watchdogFile: z.string(),
  endpoints: z.union([z.string(), z.array(z.string())]),
}).partial().strict();

/** Read a config file (YAML or JSON) into raw settings. */
export function readAgentConfigFile(path: string): RawAgentSettings {
  const { health, ...rest } = loadConfigFileSync(path, FileSchema, { what: 'archiver config', empty: {} });
  return {
    ...rest, healthUrl: health?.url, healthCmd: health?.cmd, healthDisk: health?.disk, healthPidFile: health?.pidFile,
    healthInterval: health?.interval, healthGrace: health?.grace, healthTimeout: health?.timeout,
  };
}

/** Raw settings from PVSYNC_ARCHIVER_* variables; START and STOP hold one command per line. */
export function agentSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): RawAgentSettings {
  const v = (k: string): string | undefined => {
    const s = env[`PVSYNC_ARCHIVER_${k}`];
    return s === undefined || s.trim() === '' ? undefined : s;
  };
  const lines = (k: string): string[] | undefined => v(k)?.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  return {
    node: v('NODE'), group: v('GROUP'), root: v('ROOT'), ttl: v('TTL'), margin: v('MARGIN'),
    start: lines('START'), stop: lines('STOP'), hookTimeout: v('HOOK_TIMEOUT'),
    healthUrl: v('HEALTH_URL'), healthCmd: v('HEALTH_CMD'), healthDisk: v('HEALTH_DISK'),
    healthPidFile: v('HEALTH_PID_FILE'), healthInterval: v('HEALTH_INTERVAL'), healthGrace: v('HEALTH_GRACE'),
    healthTimeout: v('HEALTH_TIMEOUT'), mgmtUrl: v('MGMT_URL'), retrievalUrl: v('RETRIEVAL_URL'),
    dataRetrievalUrl: v('DATA_RETRIEVAL_URL'), watchdogFile: v('WATCHDOG_FILE'),
  };
}

/** Parse `PATH:MINBYTES` (MINBYTES may end in K, M, G or T, powers of 1024). */
export function parseDiskSpec(spec: string): { path: string; minBytes: number } {
  const m = /^(.+):([0-9]+(?:\.[0-9]+)?)([KMGT]?)i?B?$/i.exec(spec.trim());
  if (m === null) throw new PvsError('PVS_CONFIG', `--health-disk wants PATH:MINBYTES, got ${JSON.stringify(spec)}`);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m[3] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return { path: m[1] ?? '', minBytes: Math.round(Number(m[2]) * unit) };
}

const MergedSchema = z.object({
  node: z.string({ error: '--node (or PVSYNC_ARCHIVER_NODE) is required' }).min(1),
  group: z.string().min(1),
  root: z.string().endsWith('/'),
  ttl: seconds.pipe(z.number().min(2, 'the etcd minimum lease TTL is 2 s')),
  margin: seconds.optional(),
  start: z.array(z.string().min(1)).min(1, 'at least one --start command is required'),
  stop: z.array(z.string().min(1)).min(1, 'at least one --stop command is required'),
  hookTimeout: seconds,
  healthUrl: z.url().optional(),
  healthCmd: z.string().min(1).optional(),
  healthDisk: z.string().optional(),
  healthPidFile: z.string().min(1).optional(),
  healthInterval: seconds,
  healthGrace: nonNegativeSeconds,
  healthTimeout: seconds,
  mgmtUrl: z.url().optional(),
  retrievalUrl: z.url().optional(),
  dataRetrievalUrl: z.url().optional(),
  watchdogFile: z.string().min(1).optional(),
});

const DEFAULTS = {
  group: 'default', root: ROOT, ttl: 5, hookTimeout: 60, healthInterval: 2, healthGrace: DEFAULT_HEALTH_POLICY.graceMs / 1000,
  healthTimeout: 2,
} as const;

function pick<T>(...vals: Array<T | undefined>): T | undefined {
  for (const v of vals) if (v !== undefined) return v;
  return undefined;
}

/** A setting as the user can give it: `--hook-timeout (or PVSYNC_ARCHIVER_HOOK_TIMEOUT)` for `hookTimeout`. */
function settingName(key: string): string {
  const words = key.replace(/[A-Z]/g, (c) => ` ${c}`).toLowerCase().split(' ');
  return `--${words.join('-')} (or PVSYNC_ARCHIVER_${words.join('_').toUpperCase()})`;
}

/** Merge options over environment over file over defaults, and validate. */
export function resolveAgentSettings(cli: RawAgentSettings, env: RawAgentSettings, file: RawAgentSettings): ResolvedAgentSettings {
  const keys = Object.keys(MergedSchema.shape) as Array<keyof RawAgentSettings>;
  const merged: Record<string, unknown> = {};
  for (const k of keys) {
    const v = pick(cli[k], env[k], file[k], (DEFAULTS as Record<string, unknown>)[k] as RawAgentSettings[typeof k]);
    // An empty list from the command line does not hide the environment's.
    merged[k] = Array.isArray(v) && v.length === 0 ? pick(env[k], file[k]) ?? v : v;
  }
  const r = MergedSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    throw new PvsError('PVS_CONFIG', `archiver-agent: ${key === '' ? '' : `${settingName(key)}: `}${issue?.message ?? 'invalid settings'}`);
  }
  const c = r.data;
  const ttlMs = c.ttl * 1000;
  const marginMs = c.margin === undefined ? defaultMarginMs(ttlMs) : Math.round(c.margin * 1000);
  if (marginMs >= ttlMs) throw new PvsError('PVS_CONFIG', `archiver-agent: --margin must be below --ttl`);
  const endpointsRaw = pick(cli.endpoints, env.endpoints, file.endpoints);
  const endpoints = endpointsRaw === undefined ? undefined
    : (typeof endpointsRaw === 'string' ? parseList('endpoints', endpointsRaw) : endpointsRaw.map((s) => s.trim()).filter((s) => s !== ''));
  return {
    agent: {
      node: c.node, group: c.group, root: c.root, ttlS: c.ttl, marginMs,
      start: c.start, stop: c.stop, hookTimeoutMs: Math.round(c.hookTimeout * 1000),
      healthIntervalMs: Math.round(c.healthInterval * 1000),
      healthPolicy: { ...DEFAULT_HEALTH_POLICY, graceMs: Math.round(c.healthGrace * 1000) },
      published: {
        ...(c.mgmtUrl === undefined ? {} : { mgmt: c.mgmtUrl }),
        ...(c.retrievalUrl === undefined ? {} : { retrieval: c.retrievalUrl }),
        ...(c.dataRetrievalUrl === undefined ? {} : { dataRetrieval: c.dataRetrievalUrl }),
      },
      watchdogFile: c.watchdogFile ?? null,
      switchoverHoldBackMs: SWITCHOVER_HOLD_BACK_MS,
    },
    health: {
      ...(c.healthUrl === undefined ? {} : { url: c.healthUrl }),
      ...(c.healthCmd === undefined ? {} : { cmd: c.healthCmd }),
      ...(c.healthDisk === undefined ? {} : { disk: parseDiskSpec(c.healthDisk) }),
      ...(c.healthPidFile === undefined ? {} : { pidFile: c.healthPidFile }),
      timeoutMs: Math.round(c.healthTimeout * 1000),
    },
    endpoints,
  };
}
