/**
 * What an archiver node's start and stop hooks are told, and its health rounds: the PVSYNC_* environment of a hook
 * run and one round of the health checks that count in the node's current role.
 */
import type { Logger } from 'pino';
import type { HealthTracker } from '../core/election/health.js';
import type { AgentConfig, ScopedCheck } from './archiver-agent-config.js';

/** The environment of a hook run: the agent's own plus PVSYNC_NODE, _GROUP, _FENCING_TOKEN, _HOOK_REASON, the URLs. */
export function hookEnvironment(cfg: AgentConfig, baseEnv: Readonly<Record<string, string>>, reason: string,
  token: string | null, pid: number): Record<string, string> {
  const p = cfg.published;
  return {
    ...baseEnv,
    PVSYNC_NODE: cfg.node,
    PVSYNC_GROUP: cfg.group,
    PVSYNC_FENCING_TOKEN: token ?? '',
    PVSYNC_AGENT_PID: String(pid),
    PVSYNC_HOOK_REASON: reason,
    ...(cfg.watchdogFile === null ? {} : { PVSYNC_WATCHDOG_FILE: cfg.watchdogFile }),
    ...(p.mgmt === undefined ? {} : { PVSYNC_MGMT_URL: p.mgmt }),
    ...(p.retrieval === undefined ? {} : { PVSYNC_RETRIEVAL_URL: p.retrieval }),
    ...(p.dataRetrieval === undefined ? {} : { PVSYNC_DATA_RETRIEVAL_URL: p.dataRetrieval }),
  };
}

/**
 * Run the checks that count now (`always` ones; `active` ones too while `leading`) at once and record their results;
 * true when any check changed (each change is logged).
 */
export async function runHealthRound(checks: readonly ScopedCheck[], health: HealthTracker, leading: boolean, log: Logger): Promise<boolean> {
  const due = checks.filter((c) => c.scope === 'always' || leading);
  const results = await Promise.all(due.map(async (c) => ({ c, r: await c.check.run() })));
  let changed = false;
  for (const { c, r } of results) {
    if (health.record(c.check.name, r.ok, r.detail)) {
      changed = true;
      log[r.ok ? 'info' : 'warn']({ check: c.check.name, ok: r.ok, detail: r.detail }, 'health check changed');
    }
  }
  return changed;
}
