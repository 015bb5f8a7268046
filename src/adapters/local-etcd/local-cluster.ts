/**
 * A local etcd cluster run as detached processes from a ClusterSpec and a state dir. All state is in files under
 * `<stateDir>/etcd/<member>/` (data/, etcd.pid, etcd.log), so any process given the same spec and state dir can
 * check, stop or restart members of a cluster another process started.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PvsError } from '../../core/errors.js';
import { clientUrl, memberFlags, memberOf, type ClusterSpec, type MemberSecurity } from './cluster-spec.js';
import { probeHealth, probeStatus, type ProbeTls } from './member-probe.js';
import { portIsFree } from './port-check.js';
import { isOurEtcd, readPidFile, removePidFile, sendSignal, waitForExit, writePidFile } from './member-process.js';

/** How to run the members. */
export interface LocalClusterOptions {
  /** Absolute path of the etcd binary (see ensureEtcd). */
  readonly etcdBin: string;
  readonly log?: Logger;
  /** How long `up`/`waitHealthy` wait for every member to be healthy (default 30 s). */
  readonly healthTimeoutMs?: number;
  /** How long a stop waits after SIGTERM before SIGKILL (default 10 s; a leader hands over in ~1 s). */
  readonly stopTimeoutMs?: number;
  /** Run TLS on client and peer URLs with the certificates in this directory (see `clusterTlsFiles`). */
  readonly security?: LocalClusterSecurity;
}

/** Where a TLS cluster's certificates are, and its token TTL. */
export interface LocalClusterSecurity {
  /** Directory with ca.crt, member-<name>.crt/.key per member and probe.crt/.key (a client certificate without CN). */
  readonly dir: string;
  /** --auth-token-ttl in seconds (etcd's default 300). */
  readonly authTokenTtlS?: number;
}

/** The file names a TLS cluster expects in its security dir. */
export function clusterTlsFiles(dir: string): {
  ca: string; caKey: string; probe: { cert: string; key: string }; member(name: string): { cert: string; key: string };
} {
  return {
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    probe: { cert: join(dir, 'probe.crt'), key: join(dir, 'probe.key') },
    member: (name) => ({ cert: join(dir, `member-${name}.crt`), key: join(dir, `member-${name}.key`) }),
  };
}

/** One member as seen by `status()`; pid is null when it is not running. */
export interface MemberState {
  readonly name: string;
  readonly clientUrl: string;
  readonly pid: number | null;
  readonly alive: boolean;
  readonly healthy: boolean;
  readonly leader: boolean;
  readonly dbSizeBytes: number | null;
}

/** Signals `stopMember` waits out; SIGTERM escalates to SIGKILL after the stop timeout. */
export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGKILL';

const PROBE_TIMEOUT_MS = 500;
const POLL_MS = 100;

/** Start, stop, inspect and fault-inject a local etcd cluster; every method is safe to repeat. */
export class LocalCluster {
  readonly spec: ClusterSpec;
  readonly stateDir: string;
  private readonly opts: LocalClusterOptions;
  private probeTlsCache: ProbeTls | undefined;

  constructor(spec: ClusterSpec, stateDir: string, opts: LocalClusterOptions) {
    this.spec = spec;
    this.stateDir = resolve(stateDir);
    this.opts = opts;
  }

  /** The client URLs of all members, in spec order. */
  get endpoints(): string[] {
    return this.spec.members.map((m) => this.url(m.name));
  }

  /** True when the members run TLS (https client and peer URLs, client certificates required). */
  get secure(): boolean {
    return this.opts.security !== undefined;
  }

  /** The member names, in spec order. */
  get memberNames(): string[] {
    return this.spec.members.map((m) => m.name);
  }

  /** The directory holding a member's data/, etcd.pid and etcd.log. */
  memberDir(name: string): string {
    return join(this.stateDir, 'etcd', memberOf(this.spec, name).name);
  }

  /** The log file a member's stdout and stderr go to. */
  logPath(name: string): string {
    return join(this.memberDir(name), 'etcd.log');
  }

  /** Start every member that is not running and wait until all are healthy; returns the endpoints. */
  async up(): Promise<string[]> {
    const toStart: string[] = [];
    for (const m of this.spec.members) {
      if ((await this.runningPid(m.name)) === undefined) toStart.push(m.name);
    }
    // Check every port before starting anything, so a busy port leaves nothing half-started.
    for (const name of toStart) await this.checkPorts(name);
    const started: string[] = [];
    try {
      for (const name of toStart) {
        await this.startMember(name);
        started.push(name);
      }
      await this.waitHealthy();
    } catch (err) {
      // Leave nothing half-started behind: stop what this call started.
      await Promise.all(started.map((name) => this.stopMember(name, 'SIGKILL').catch(() => undefined)));
      throw err;
    }
    this.opts.log?.info({ endpoints: this.endpoints, started }, 'etcd cluster up');
    return this.endpoints;
  }

  /** Stop every member (SIGTERM, SIGKILL after the stop timeout) and remove the pid files; data is kept. */
  async down(): Promise<void> {
    // etcd: a leader stopping on SIGTERM first hands leadership to a follower and waits up to ~5 s if that follower
    // is stopping too; stopping the followers first leaves it nobody to hand over to, so it exits at once.
    const leader = await this.leader();
    await Promise.all(this.spec.members.filter((m) => m.name !== leader).map((m) => this.stopMember(m.name, 'SIGTERM')));
    if (leader !== undefined) await this.stopMember(leader, 'SIGTERM');
    this.opts.log?.info({ members: this.memberNames }, 'etcd cluster down');
  }

  /** Every member's pid, liveness, health, leadership and db size (probes run in parallel, ~0.5 s at worst). */
  async status(): Promise<MemberState[]> {
    return Promise.all(this.spec.members.map(async (m): Promise<MemberState> => {
      const url = this.url(m.name);
      const pid = await this.runningPid(m.name);
      const tls = this.probeTls();
      const [healthy, st] = pid === undefined
        ? [false, undefined]
        : await Promise.all([probeHealth(url, PROBE_TIMEOUT_MS, tls), probeStatus(url, PROBE_TIMEOUT_MS, tls)]);
      return {
        name: m.name, clientUrl: url, pid: pid ?? null, alive: pid !== undefined, healthy,
        leader: st?.isLeader ?? false, dbSizeBytes: st?.dbSizeBytes ?? null,
      };
    }));
  }

  /** The name of the current leader (the claimant with the highest raft term), or undefined during an election. */
  async leader(): Promise<string | undefined> {
    const claims = await Promise.all(this.spec.members.map(async (m) => ({
      name: m.name, st: await probeStatus(this.url(m.name), PROBE_TIMEOUT_MS, this.probeTls()),
    })));
    let best: { name: string; term: number } | undefined;
    for (const { name, st } of claims) {
      if (st?.isLeader === true && (best === undefined || st.raftTerm > best.term)) best = { name, term: st.raftTerm };
    }
    return best?.name;
  }

  /**
   * Wait until every member runs and answers /health; fails fast with the tail of its log when a member has
   * exited, and with PVS_CLUSTER (retryable) after the timeout.
   */
  async waitHealthy(timeoutMs = this.opts.healthTimeoutMs ?? 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let unhealthy: string[] = [];
    for (;;) {
      unhealthy = [];
      for (const m of this.spec.members) {
        if ((await this.runningPid(m.name)) === undefined) {
          throw new PvsError('PVS_CLUSTER', `etcd member ${m.name} is not running; its log ends:\n${await this.logTail(m.name)}`);
        }
      }
      const health = await Promise.all(this.spec.members.map((m) => probeHealth(this.url(m.name), PROBE_TIMEOUT_MS, this.probeTls())));
      health.forEach((ok, i) => {
        if (!ok) unhealthy.push(this.spec.members[i]?.name ?? '?');
      });
      // The answers must come from our processes: re-check that none exited while we probed.
      if (unhealthy.length === 0 && (await this.allRunning())) return;
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    throw new PvsError('PVS_CLUSTER', `etcd members not healthy after ${timeoutMs} ms: ${unhealthy.join(', ')}`,
      { retryable: true });
  }

  /**
   * Start one member detached (own process group, output to its log file, pid file written) unless it runs.
   * A member with a data dir rejoins (`--initial-cluster-state existing`). Does not wait for health.
   */
  async startMember(name: string): Promise<number> {
    const member = memberOf(this.spec, name);
    const running = await this.runningPid(name);
    if (running !== undefined) return running;
    await this.checkPorts(name);
    const dir = this.memberDir(name);
    const dataDir = join(dir, 'data');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const state = (await isDir(join(dataDir, 'member'))) ? 'existing' : 'new';
    const args = memberFlags(this.spec, member, dataDir, state, this.memberSecurity(name));
    const logFile = await open(this.logPath(name), 'a');
    let pid: number | undefined;
    try {
      const child = spawn(this.opts.etcdBin, args, { detached: true, stdio: ['ignore', logFile.fd, logFile.fd] });
      pid = child.pid;
      if (pid === undefined) {
        const err = await new Promise<Error>((res) => child.once('error', res));
        throw new PvsError('PVS_CLUSTER', `cannot start ${this.opts.etcdBin}: ${err.message}`, { cause: err });
      }
      // Reap it if it dies while we live; it must not keep this process alive.
      child.on('error', () => undefined);
      child.unref();
    } finally {
      await logFile.close();
    }
    await writePidFile(this.pidPath(name), pid);
    this.opts.log?.info({ member: name, etcdPid: pid, state }, 'etcd member started');
    return pid;
  }

  /** Signal one member and wait until it has exited (SIGTERM/SIGINT escalate to SIGKILL); no-op when stopped. */
  async stopMember(name: string, signal: StopSignal = 'SIGTERM'): Promise<void> {
    const pid = await this.runningPid(name);
    if (pid !== undefined) {
      const dataDir = this.dataDir(name);
      const gone = (): Promise<boolean> => isOurEtcd(pid, dataDir);
      sendSignal(pid, signal);
      const timeout = this.opts.stopTimeoutMs ?? 10_000;
      if (!(await waitForExit(gone, signal === 'SIGKILL' ? 5_000 : timeout))) {
        this.opts.log?.warn({ member: name, etcdPid: pid, signal }, 'etcd member did not exit; sending SIGKILL');
        sendSignal(pid, 'SIGKILL');
        if (!(await waitForExit(gone, 5_000))) {
          throw new PvsError('PVS_CLUSTER', `etcd member ${name} (pid ${pid}) does not exit`);
        }
      }
      this.opts.log?.info({ member: name, etcdPid: pid, signal }, 'etcd member stopped');
    }
    await removePidFile(this.pidPath(name));
  }

  /** Freeze a member with SIGSTOP (it keeps its sockets but answers nothing): a hung-process fault. */
  async freezeMember(name: string): Promise<void> {
    await this.signalRunning(name, 'SIGSTOP');
  }

  /** Resume a member frozen by `freezeMember`. */
  async thawMember(name: string): Promise<void> {
    await this.signalRunning(name, 'SIGCONT');
  }

  /** The pid of a member when it runs (stale pid files, zombies and reused pids count as not running). */
  async runningPid(name: string): Promise<number | undefined> {
    const pid = await readPidFile(this.pidPath(name));
    if (pid === undefined) return undefined;
    return (await isOurEtcd(pid, this.dataDir(name))) ? pid : undefined;
  }

  /** Throw when a port of the member is taken: another process would answer our health checks. */
  private async checkPorts(name: string): Promise<void> {
    const member = memberOf(this.spec, name);
    for (const [what, port] of [['client', member.clientPort], ['peer', member.peerPort]] as const) {
      if (!(await portIsFree(this.spec.host, port))) {
        throw new PvsError('PVS_CLUSTER', `cannot start etcd member ${name}: its ${what} port ${this.spec.host}:${port} is `
          + 'in use by another process (another etcd cluster?)');
      }
    }
  }

  private async allRunning(): Promise<boolean> {
    const pids = await Promise.all(this.spec.members.map((m) => this.runningPid(m.name)));
    return pids.every((pid) => pid !== undefined);
  }

  private async signalRunning(name: string, signal: NodeJS.Signals): Promise<void> {
    const pid = await this.runningPid(name);
    if (pid === undefined) throw new PvsError('PVS_CLUSTER', `etcd member ${name} is not running`);
    sendSignal(pid, signal);
  }

  private url(name: string): string {
    return clientUrl(this.spec, memberOf(this.spec, name), this.secure);
  }

  private memberSecurity(name: string): MemberSecurity | undefined {
    const sec = this.opts.security;
    if (sec === undefined) return undefined;
    const files = clusterTlsFiles(sec.dir);
    const own = files.member(name);
    return {
      certFile: own.cert, keyFile: own.key, caFile: files.ca,
      ...(sec.authTokenTtlS === undefined ? {} : { authTokenTtlS: sec.authTokenTtlS }),
    };
  }

  /** The probe's client certificate, read once (a missing file is a PVS_CLUSTER error naming it). */
  private probeTls(): ProbeTls | undefined {
    const sec = this.opts.security;
    if (sec === undefined) return undefined;
    if (this.probeTlsCache === undefined) {
      const files = clusterTlsFiles(sec.dir);
      const read = (path: string): Buffer => {
        try {
          return readFileSync(path);
        } catch (err) {
          throw new PvsError('PVS_CLUSTER', `cannot read ${path} of the TLS cluster`, { cause: err });
        }
      };
      this.probeTlsCache = { ca: read(files.ca), cert: read(files.probe.cert), key: read(files.probe.key) };
    }
    return this.probeTlsCache;
  }

  private pidPath(name: string): string {
    return join(this.memberDir(name), 'etcd.pid');
  }

  private dataDir(name: string): string {
    return join(this.memberDir(name), 'data');
  }

  private async logTail(name: string, lines = 8): Promise<string> {
    try {
      return (await readFile(this.logPath(name), 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
