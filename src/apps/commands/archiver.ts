/**
 * `pvsync archiver-agent` (the per-node agent of archiver high availability), `pvsync archiver status` and
 * `pvsync archiver switchover [--to NODE]`. See docs/archiver-ha.md.
 */
import type { Command } from 'commander';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { EtcdArchiverService } from '../../adapters/etcd/archiver-ops.js';
import { commandCheck, diskFreeCheck, httpCheck, processAliveCheck } from '../../adapters/health/checks.js';
import { runCommand } from '../../adapters/hooks/run-command.js';
import type { GroupStatus } from '../../core/election/records.js';
import { ROOT } from '../../core/keyspace.js';
import { ArchiverAgent, type ScopedCheck } from '../archiver-agent.js';
import {
  agentSettingsFromEnv, readAgentConfigFile, resolveAgentSettings, type RawAgentSettings,
} from '../archiver-config.js';
import { rootLogger } from '../logger.js';
import { POSITIVE_SECONDS, numberOption } from '../option-values.js';
import { resolveEtcd, withEndpoints, type SecurityFlags } from '../options.js';

interface AgentOpts extends SecurityFlags {
  node?: string; group?: string; root?: string; ttl?: number; margin?: number; start?: string[]; stop?: string[];
  hookTimeout?: number; healthUrl?: string; healthCmd?: string; healthDisk?: string; healthPidFile?: string;
  healthInterval?: number; healthGrace?: number; healthTimeout?: number; mgmtUrl?: string; retrievalUrl?: string;
  dataRetrievalUrl?: string; watchdogFile?: string; endpoints?: readonly string[]; config?: string;
}

function envStrings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

async function runAgent(o: AgentOpts): Promise<void> {
  const cli: RawAgentSettings = {
    node: o.node, group: o.group, root: o.root, ttl: o.ttl, margin: o.margin, start: o.start, stop: o.stop,
    hookTimeout: o.hookTimeout, healthUrl: o.healthUrl, healthCmd: o.healthCmd, healthDisk: o.healthDisk,
    healthPidFile: o.healthPidFile, healthInterval: o.healthInterval, healthGrace: o.healthGrace,
    healthTimeout: o.healthTimeout, mgmtUrl: o.mgmtUrl, retrievalUrl: o.retrievalUrl,
    dataRetrievalUrl: o.dataRetrievalUrl, watchdogFile: o.watchdogFile, endpoints: o.endpoints,
  };
  const file = o.config === undefined ? {} : readAgentConfigFile(o.config);
  const s = resolveAgentSettings(cli, agentSettingsFromEnv(process.env), file);
  const { endpoints, security } = resolveEtcd({ ...o, endpoints: s.endpoints });
  const log = rootLogger('pvsync-archiver-agent');
  const baseEnv = envStrings();
  const checks: ScopedCheck[] = [];
  const h = s.health;
  if (h.pidFile !== undefined) checks.push({ check: processAliveCheck(h.pidFile), scope: 'active' });
  if (h.url !== undefined) checks.push({ check: httpCheck(h.url, h.timeoutMs), scope: 'active' });
  if (h.disk !== undefined) checks.push({ check: diskFreeCheck(h.disk.path, h.disk.minBytes), scope: 'always' });
  if (h.cmd !== undefined) checks.push({ check: commandCheck(h.cmd, h.timeoutMs, runCommand, baseEnv), scope: 'always' });
  const ttlMs = s.agent.ttlS * 1000;
  const client = createEtcdClient(endpoints, {
    ...(security === undefined ? {} : { security }),
    callTimeoutMs: Math.max(300, Math.min(2000, Math.floor(ttlMs / 3))), dialTimeoutMs: Math.max(300, Math.floor(ttlMs / 3)), log,
  });
  const agent = new ArchiverAgent(s.agent, { client, log, checks, baseEnv });
  log.info({ node: s.agent.node, group: s.agent.group, ttl: s.agent.ttlS, marginMs: s.agent.marginMs, endpoints }, 'archiver agent starting');
  const onSignal = (): void => agent.shutdown();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await agent.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    client.close();
    // etcd3 may keep retrying a watch against an unreachable member after close: do not let it keep us alive.
    setTimeout(() => process.exit(), 1000).unref();
  }
}

/** A client from `--endpoints` and the security options (files checked first). */
function openClient(o: SecurityFlags & { endpoints?: readonly string[] }): Etcd3 {
  const { endpoints, security } = resolveEtcd(o);
  return createEtcdClient(endpoints, security === undefined ? {} : { security });
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

/** Render a group's status as a text table (what `pvsync archiver status` prints). */
export function formatStatus(g: GroupStatus, now: number): string {
  const lines = [`group ${g.group}: active ${g.active === null ? '(none)' : `${g.active.node} (token ${g.active.token})`}`
    + (g.switchover === null ? '' : `, switchover requested${g.switchover.to === undefined ? '' : ` to ${g.switchover.to}`}`)];
  if (g.active !== null) {
    for (const [k, v] of Object.entries(g.active.endpoints)) lines.push(`  ${k}: ${v}`);
  }
  lines.push('NODE\tROLE\tHEALTH\tSINCE\tTOKEN');
  for (const n of g.nodes) {
    const failing = n.checks.filter((c) => !c.ok).map((c) => c.name).join(',');
    lines.push(`${n.node}\t${n.role}\t${n.healthy ? 'ok' : `FAIL ${failing}`}\t${age(now - n.since)}\t${n.token ?? '-'}`);
  }
  return lines.join('\n') + '\n';
}

/** Register `pvsync archiver-agent` and `pvsync archiver status|switchover`. */
export function register(program: Command): void {
  const agent = program.command('archiver-agent')
    .description('run the HA agent of one archiver node: campaign, start/stop hooks, health checks')
    .option('--node <name>', 'this node\'s name (env PVSYNC_ARCHIVER_NODE)')
    .option('--group <name>', 'archiver group (default "default")')
    .option('--root <prefix>', 'etcd key root (default /pvsync/v1/)')
    .addOption(numberOption('--ttl <seconds>', 'election lease TTL (default 5, minimum 2)', { kind: 'seconds', min: 2 }))
    .addOption(numberOption('--margin <seconds>', 'stop services this long before the lease can expire (default 30% of TTL, >= 0.5)', POSITIVE_SECONDS))
    .option('--start <cmd...>', 'start hooks, run in order on election')
    .option('--stop <cmd...>', 'stop hooks, run in order on loss, shutdown or failed health')
    .addOption(numberOption('--hook-timeout <seconds>', 'time limit of each hook (default 60)', POSITIVE_SECONDS))
    .option('--health-url <url>', 'healthy while GET answers 2xx (counts while active)')
    .option('--health-cmd <cmd>', 'healthy while the command exits 0 (counts always)')
    .option('--health-disk <path:minbytes>', 'healthy while the file system has this much free (K/M/G/T suffixes)')
    .option('--health-pid-file <file>', 'healthy while the pid in the file runs (counts while active)')
    .addOption(numberOption('--health-interval <seconds>', 'between health rounds (default 2)', POSITIVE_SECONDS))
    .addOption(numberOption('--health-grace <seconds>', 'ignore service checks this long after start hooks (default 30)', { kind: 'seconds', min: 0 }))
    .addOption(numberOption('--health-timeout <seconds>', 'time limit of one HTTP or command check (default 2)', POSITIVE_SECONDS))
    .option('--mgmt-url <url>', 'published mgmt URL of this node')
    .option('--retrieval-url <url>', 'published retrieval URL of this node')
    .option('--data-retrieval-url <url>', 'published data retrieval URL of this node')
    .option('--watchdog-file <file>', 'file refreshed with {validUntil} while active, for services to fence themselves')
    .option('--config <file>', 'YAML/JSON file with the same settings');
  withEndpoints(agent).action((o: AgentOpts) => runAgent(o));

  const archiver = program.command('archiver').description('operate archiver high availability');
  const status = archiver.command('status').description('every node of the group: role, health, since, token')
    .option('--group <name>', 'archiver group', 'default')
    .option('--root <prefix>', 'etcd key root', ROOT)
    .option('--json', 'print JSON');
  withEndpoints(status).action(async (o: SecurityFlags & { group: string; root: string; json?: boolean; endpoints?: readonly string[] }) => {
    const client = openClient(o);
    try {
      const g = await new EtcdArchiverService(client, o.root).status(o.group);
      process.stdout.write(o.json === true ? JSON.stringify(g, null, 2) + '\n' : formatStatus(g, Date.now()));
    } finally {
      client.close();
    }
  });
  const sw = archiver.command('switchover').description('graceful handover to NODE (or any healthy standby)')
    .option('--to <node>', 'target node')
    .option('--group <name>', 'archiver group', 'default')
    .option('--root <prefix>', 'etcd key root', ROOT)
    .addOption(numberOption('--timeout <seconds>', 'give up after this long', POSITIVE_SECONDS, { fallback: 10 }))
    .option('--json', 'print JSON');
  withEndpoints(sw).action(async (o: SecurityFlags & { to?: string; group: string; root: string; timeout: number; json?: boolean; endpoints?: readonly string[] }) => {
    const client = openClient(o);
    try {
      const r = await new EtcdArchiverService(client, o.root).switchover(o.group, o.to, Math.round(o.timeout * 1000));
      process.stdout.write(o.json === true ? JSON.stringify(r) + '\n'
        : `switched ${r.group} from ${r.from} to ${r.to} (token ${r.token}) in ${r.elapsedMs} ms\n`);
    } finally {
      client.close();
    }
  });
}
