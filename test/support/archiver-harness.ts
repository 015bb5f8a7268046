/**
 * Failover harness, as facilities test by hand: two (or more) `pvsync archiver-agent` PROCESSES (run from source
 * with `node --import tsx test/support/run-cli.ts`, so no build is needed) around a stand-in archiver
 * (archiver-standin.mjs) that its start hook launches and its stop hook kills. Each agent's etcd traffic may go
 * through its own fault proxies (one per member) so that it can be cut off. Faults: crash (SIGKILL agent and
 * stand-in: the machine dies), freeze (SIGSTOP both: the machine hangs), cut-off (proxies paused).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { EtcdArchiverService } from '../../src/adapters/etcd/archiver-ops.js';
import type { GroupStatus } from '../../src/core/election/records.js';
import { FaultProxy } from './fault-proxy.js';
import { parseSamples, type Sample } from './failover-series.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STANDIN = fileURLToPath(new URL('./archiver-standin.mjs', import.meta.url));

/** Options of a harness. */
export interface HarnessOptions {
  readonly endpoints: readonly string[];
  readonly root: string;
  readonly group?: string;
  readonly ttlS: number;
  readonly marginS?: number;
  readonly nodes?: readonly string[];
  /** Route every agent's etcd traffic through fault proxies (needed for cut-off). */
  readonly proxied?: boolean;
  /**
   * The service the start hook launches instead of the 10 Hz stand-in: `command(node)` is a shell command that runs
   * in the foreground and writes its pid to $STANDIN_PID_FILE (e.g. `pvsync archiver-sim --pid-file …`), and
   * `mgmtUrl(node)` the URL the agent publishes.
   */
  readonly service?: { readonly command: (node: string) => string; readonly mgmtUrl: (node: string) => string };
  /** Extra environment of every agent (and so of its hooks), given the harness directory. */
  readonly env?: (dir: string) => Readonly<Record<string, string>>;
}

interface AgentProc {
  readonly node: string;
  readonly proc: ChildProcess;
  readonly proxies: FaultProxy[];
  exited: boolean;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A running failover set-up; always `stop()` it (in afterEach/finally). */
export class ArchiverHarness {
  readonly group: string;
  readonly nodes: readonly string[];
  readonly client: Etcd3;
  readonly service: EtcdArchiverService;
  private readonly agents = new Map<string, AgentProc>();

  private constructor(readonly dir: string, private readonly opts: HarnessOptions) {
    this.group = opts.group ?? 'ha';
    this.nodes = opts.nodes ?? ['a', 'b'];
    this.client = createEtcdClient(opts.endpoints, { callTimeoutMs: 2000, dialTimeoutMs: 2000 });
    this.service = new EtcdArchiverService(this.client, opts.root);
  }

  /** Create the shared directory and start every agent (in node order, so the first one usually wins). */
  static async start(opts: HarnessOptions): Promise<ArchiverHarness> {
    const h = new ArchiverHarness(await mkdtemp(join(tmpdir(), 'pvsync-failover-')), opts);
    try {
      for (const node of h.nodes) await h.startAgent(node);
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  private file(kind: 'samples' | 'pid' | 'watchdog' | 'log' | 'standin-log', node: string): string {
    const ext = { samples: 'jsonl', pid: 'pid', watchdog: 'json', log: 'log', 'standin-log': 'log' }[kind];
    return join(this.dir, `${kind}-${node}.${ext}`);
  }

  /** Start (or restart) the agent of `node`. */
  async startAgent(node: string): Promise<void> {
    const old = this.agents.get(node);
    if (old !== undefined && !old.exited) throw new Error(`agent ${node} is running`);
    const proxies: FaultProxy[] = old?.proxies ?? [];
    if (this.opts.proxied === true && proxies.length === 0) {
      for (const ep of this.opts.endpoints) {
        const p = new FaultProxy({ target: new URL(ep) });
        await p.start();
        proxies.push(p);
      }
    }
    const endpoints = proxies.length > 0 ? proxies.map((p) => p.url) : [...this.opts.endpoints];
    const pid = this.file('pid', node);
    const svc = this.opts.service?.command(node) ?? `node ${q(STANDIN)}`;
    // A service started from a Node program may take seconds on a loaded machine: wait up to 20 s for its pid.
    const waits = this.opts.service === undefined ? 300 : 2000;
    const start = `rm -f ${q(pid)}; ${svc} >>${q(this.file('standin-log', node))} 2>&1 & `
      + `i=0; while [ ! -s ${q(pid)} ] && [ $i -lt ${waits} ]; do sleep 0.01; i=$((i+1)); done; [ -s ${q(pid)} ]`;
    // Wait for the stand-in to be really gone (a zombie counts as gone: nobody may reap it in a container).
    const stop = `if [ -s ${q(pid)} ]; then p=$(cat ${q(pid)}); kill -TERM "$p" 2>/dev/null; `
      + `while [ -e /proc/$p ] && ! grep -q ') Z' /proc/$p/stat 2>/dev/null; do sleep 0.01; done; fi; rm -f ${q(pid)}`;
    const args = [
      '--import', 'tsx', join(REPO, 'test/support/run-cli.ts'), 'archiver-agent',
      '--node', node, '--group', this.group, '--root', this.opts.root, '--ttl', String(this.opts.ttlS),
      ...(this.opts.marginS === undefined ? [] : ['--margin', String(this.opts.marginS)]),
      '--endpoints', endpoints.join(','), '--start', start, '--stop', stop, '--hook-timeout', this.opts.service === undefined ? '5' : '30',
      '--watchdog-file', this.file('watchdog', node), '--health-interval', '0.5', '--health-cmd', 'true',
      '--mgmt-url', this.opts.service?.mgmtUrl(node) ?? `http://${node}.invalid:17665/mgmt`, '--retrieval-url', `http://${node}.invalid:17668/retrieval`,
    ];
    const logFd = openSync(this.file('log', node), 'a');
    const proc = spawn(process.execPath, args, {
      cwd: REPO, stdio: ['ignore', logFd, logFd],
      env: {
        ...process.env, PVSYNC_LOG_LEVEL: 'info', ...this.opts.env?.(this.dir),
        STANDIN_OUT: this.file('samples', node), STANDIN_PID_FILE: pid,
      },
    });
    const a: AgentProc = { node, proc, proxies, exited: false };
    proc.on('exit', () => { a.exited = true; });
    this.agents.set(node, a);
  }

  private agent(node: string): AgentProc {
    const a = this.agents.get(node);
    if (a === undefined) throw new Error(`no agent ${node}`);
    return a;
  }

  /** The group as etcd sees it now. */
  status(): Promise<GroupStatus> {
    return this.service.status(this.group);
  }

  /** Wait until `pred` holds for the group status (polled every 20 ms); returns that status. */
  async waitFor(pred: (g: GroupStatus) => boolean, timeoutMs: number, what: string): Promise<GroupStatus> {
    const until = Date.now() + timeoutMs;
    let last: GroupStatus | null = null;
    while (Date.now() < until) {
      last = await this.status().catch(() => last);
      if (last !== null && pred(last)) return last;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
  }

  /** Wait until some node is active and every agent has published a healthy standby/active status. */
  async waitSettled(timeoutMs = 30_000): Promise<GroupStatus> {
    return this.waitFor((g) => g.active !== null && this.nodes.every((n) => g.nodes.some(
      (s) => s.node === n && s.healthy && (s.role === 'standby' || (s.role === 'active' && g.active?.node === n)))),
    timeoutMs, 'an active node and healthy standbys');
  }

  /** The stand-in's pid of `node`, if it runs. */
  async standinPid(node: string): Promise<number | null> {
    try {
      const pid = Number.parseInt(await readFile(this.file('pid', node), 'utf8'), 10);
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  private signal(pid: number | null | undefined, sig: NodeJS.Signals): void {
    if (pid === null || pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }

  /** The machine of `node` dies: SIGKILL its agent and its stand-in at once. Returns the fault time. */
  async crash(node: string): Promise<number> {
    const standin = await this.standinPid(node);
    const at = Date.now();
    this.signal(this.agent(node).proc.pid, 'SIGKILL');
    this.signal(standin, 'SIGKILL');
    return at;
  }

  /** The machine of `node` hangs: SIGSTOP its agent and its stand-in. Returns the fault time. */
  async freeze(node: string): Promise<number> {
    const standin = await this.standinPid(node);
    const at = Date.now();
    this.signal(this.agent(node).proc.pid, 'SIGSTOP');
    this.signal(standin, 'SIGSTOP');
    this.frozenStandins.set(node, standin);
    return at;
  }

  private readonly frozenStandins = new Map<string, number | null>();

  /** The machine of `node` resumes (stand-in first: the worst order for safety). */
  thaw(node: string): void {
    this.signal(this.frozenStandins.get(node), 'SIGCONT');
    this.frozenStandins.delete(node);
    this.signal(this.agent(node).proc.pid, 'SIGCONT');
  }

  /** Cut `node` off from etcd (its proxies stop forwarding both ways). Returns the fault time. */
  cutOff(node: string): number {
    const a = this.agent(node);
    if (a.proxies.length === 0) throw new Error('cut-off needs a proxied harness');
    const at = Date.now();
    for (const p of a.proxies) p.pause('both');
    return at;
  }

  /** Reconnect `node` to etcd. */
  heal(node: string): void {
    for (const p of this.agent(node).proxies) p.resume('both');
  }

  /** Every sample written so far, merged and sorted by time. */
  async samples(): Promise<Sample[]> {
    const all: Sample[] = [];
    for (const f of await readdir(this.dir)) {
      if (f.startsWith('samples-')) all.push(...parseSamples(await readFile(join(this.dir, f), 'utf8')));
    }
    return all.sort((a, b) => a.t - b.t);
  }

  /** The started service's log of `node` (stand-in or archiver-sim output). */
  async serviceLog(node: string): Promise<string> {
    return readFile(this.file('standin-log', node), 'utf8').catch(() => '');
  }

  /** Whether the agent process of `node` has exited. */
  agentExited(node: string): boolean {
    return this.agents.get(node)?.exited ?? true;
  }

  /** SIGTERM the agent of `node` (its stop hooks run) and wait until it has exited. */
  async stopAgent(node: string, timeoutMs = 10_000): Promise<void> {
    const a = this.agent(node);
    if (a.exited) return;
    this.signal(a.proc.pid, 'SIGTERM');
    const until = Date.now() + timeoutMs;
    while (!a.exited && Date.now() < until) await sleep(50);
    if (!a.exited) throw new Error(`agent ${node} did not exit within ${timeoutMs} ms`);
  }

  /** The agent's log of `node` (pino JSON lines), for failure messages. */
  async log(node: string): Promise<string> {
    return readFile(this.file('log', node), 'utf8').catch(() => '');
  }

  /** Stop everything: thaw, SIGTERM the agents (stop hooks run), SIGKILL leftovers, stop proxies, remove the dir. */
  async stop(keepDir = false): Promise<void> {
    for (const node of [...this.frozenStandins.keys()]) this.thaw(node);
    for (const a of this.agents.values()) {
      for (const p of a.proxies) p.resume('both');
      if (!a.exited) this.signal(a.proc.pid, 'SIGTERM');
    }
    const until = Date.now() + 8000;
    while ([...this.agents.values()].some((a) => !a.exited) && Date.now() < until) await sleep(50);
    for (const a of this.agents.values()) {
      if (!a.exited) this.signal(a.proc.pid, 'SIGKILL');
      for (const p of a.proxies) await p.stop();
    }
    for (const node of this.nodes) this.signal(await this.standinPid(node), 'SIGKILL');
    this.client.close();
    if (!keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}
