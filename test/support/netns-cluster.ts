/**
 * A 3-member etcd cluster whose members each run in a network namespace of their own, on their own 10.x address,
 * joined by a bridge in the root namespace (where the clients run). `cut(member)` loads nftables rules into the
 * member's namespace that drop every packet except on lo: the member accepts nothing and answers nothing — a real
 * partition, not a refusal. Needs root, `ip` and `nft`. Names carry this process's pid; `cleanupStale()` removes
 * what a crashed run of a dead pid left behind.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { memberFlags, type ClusterSpec } from '../../src/adapters/local-etcd/cluster-spec.js';
import { probeHealth, probeStatus } from '../../src/adapters/local-etcd/member-probe.js';
import { CLUSTER_YML, testEtcdBin } from './start-cluster.js';
import { loadClusterSpec } from '../../src/apps/config-files.js';

const run = promisify(execFile);
const PREFIX = 'pvsync-nt';

/** One member: its namespace, address, client URL and process. */
export interface NetnsMember {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly endpoint: string;
  proc: ChildProcess | null;
  cut: boolean;
}

async function sh(cmd: string, args: readonly string[], input?: string): Promise<void> {
  if (input === undefined) {
    await run(cmd, [...args]);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, [...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`))));
    p.stdin.end(input);
  });
}

const quiet = (p: Promise<unknown>): Promise<void> => p.then(() => undefined, () => undefined);

/** Remove namespaces and links of earlier runs whose process is gone (a crash skipped their stop()). */
export async function cleanupStale(): Promise<void> {
  const { stdout: nsList } = await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
  const { stdout: links } = await run('ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }));
  const dead = (pid: string): boolean => !existsSync(`/proc/${pid}`);
  for (const line of nsList.split('\n')) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+)`).exec(line);
    if (m?.[1] === undefined || m[2] === undefined || !dead(m[2])) continue;
    // Its etcd may still run inside: kill every process of the namespace first.
    const { stdout: pids } = await run('ip', ['netns', 'pids', m[1]]).catch(() => ({ stdout: '' }));
    for (const pid of pids.split('\n').filter(Boolean)) quietKill(Number(pid));
    await quiet(run('ip', ['netns', 'del', m[1]]));
  }
  for (const line of links.split('\n')) {
    const m = /^\d+: (pvb(\d+)|pvh(\d+)x\d)[@:]/.exec(line);
    const pid = m?.[2] ?? m?.[3];
    if (m?.[1] === undefined || pid === undefined || !dead(pid)) continue;
    await quiet(run('ip', ['link', 'del', m[1]]));
  }
}

function quietKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The cluster; always `stop()` it. */
export class NetnsCluster {
  private constructor(
    readonly members: readonly NetnsMember[],
    private readonly bridge: string,
    private readonly dir: string,
    private readonly spec: ClusterSpec,
    private readonly etcdBin: string,
  ) {}

  /** Client URLs of the members (in the member namespaces, reached over the bridge). */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** Create the namespaces, bridge and links, and start the members; resolves once all are healthy. */
  static async start(): Promise<NetnsCluster> {
    await cleanupStale();
    const pid = process.pid;
    const subnet = `10.${100 + ((pid >> 8) % 150)}.${pid % 256}`;
    const bridge = `pvb${pid}`;
    const spec = await loadClusterSpec(CLUSTER_YML);
    const members: NetnsMember[] = spec.members.map((m, i) => ({
      name: m.name, ns: `${PREFIX}-${pid}-${i + 1}`, ip: `${subnet}.${11 + i}`, endpoint: `http://${subnet}.${11 + i}:2379`,
      proc: null, cut: false,
    }));
    const c = new NetnsCluster(members, bridge, await mkdtemp(join(tmpdir(), 'pvsync-netns-')), spec, await testEtcdBin());
    try {
      await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
      await sh('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
      await sh('ip', ['link', 'set', bridge, 'up']);
      for (const [i, m] of members.entries()) {
        const host = `pvh${pid}x${i + 1}`;
        const inner = `pvn${pid}x${i + 1}`;
        await sh('ip', ['netns', 'add', m.ns]);
        await sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
        await sh('ip', ['link', 'set', inner, 'netns', m.ns]);
        await sh('ip', ['link', 'set', host, 'master', bridge]);
        await sh('ip', ['link', 'set', host, 'up']);
        await sh('ip', ['-n', m.ns, 'link', 'set', inner, 'name', 'eth0']);
        await sh('ip', ['-n', m.ns, 'addr', 'add', `${m.ip}/24`, 'dev', 'eth0']);
        await sh('ip', ['-n', m.ns, 'link', 'set', 'eth0', 'up']);
        await sh('ip', ['-n', m.ns, 'link', 'set', 'lo', 'up']);
      }
      for (const m of members) c.startMember(m);
      await c.waitHealthy(30_000);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private startMember(m: NetnsMember): void {
    const spec = { ...this.spec, host: m.ip, token: `pvsync-netns-${process.pid}` };
    const member = this.spec.members.find((x) => x.name === m.name);
    if (member === undefined) throw new Error(`no member ${m.name}`);
    const initial = this.members.map((x) => `${x.name}=http://${x.ip}:2380`).join(',');
    const flags = memberFlags(spec, { ...member, clientPort: 2379, peerPort: 2380 }, join(this.dir, m.name), 'new')
      .map((f) => (f.startsWith('--initial-cluster=') ? `--initial-cluster=${initial}` : f));
    const log = openSync(join(this.dir, `${m.name}.log`), 'a');
    m.proc = spawn('ip', ['netns', 'exec', m.ns, this.etcdBin, ...flags], { stdio: ['ignore', log, log] });
    closeSync(log);
  }

  /** Wait until every member that is not cut answers /health. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ok = await Promise.all(this.members.filter((m) => !m.cut).map((m) => probeHealth(m.endpoint, 500)));
      if (ok.every(Boolean)) return;
      if (Date.now() > until) throw new Error(`netns cluster not healthy after ${timeoutMs} ms; logs in ${this.dir}`);
      await sleep(100);
    }
  }

  /** The name of the current leader, as the members that are not cut see it. */
  async leader(): Promise<string> {
    for (let i = 0; i < 100; i++) {
      for (const m of this.members.filter((x) => !x.cut)) {
        const s = await probeStatus(m.endpoint, 500);
        if (s?.isLeader === true) return m.name;
      }
      await sleep(50);
    }
    throw new Error('no leader');
  }

  /** A member's own status (undefined when it does not answer). */
  status(name: string): ReturnType<typeof probeStatus> {
    return probeStatus(this.member(name).endpoint, 500);
  }

  member(name: string): NetnsMember {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** Cut `name` off silently: every packet in or out of its namespace except on lo is dropped. */
  async cut(name: string): Promise<number> {
    const m = this.member(name);
    await sh('ip', ['netns', 'exec', m.ns, 'nft', '-f', '-'], [
      'table inet pvsync_cut {',
      '  chain input { type filter hook input priority -300; policy drop; iif "lo" accept; }',
      '  chain output { type filter hook output priority -300; policy drop; oif "lo" accept; }',
      '}',
    ].join('\n'));
    m.cut = true;
    return Date.now();
  }

  /**
   * Cut `name` off from its peers only (peer port 2380 dropped both ways; clients still reach it): the member loses
   * its leader but keeps answering clients.
   */
  async cutPeers(name: string): Promise<number> {
    const m = this.member(name);
    await sh('ip', ['netns', 'exec', m.ns, 'nft', '-f', '-'], [
      'table inet pvsync_cut {',
      '  chain input { type filter hook input priority -300; policy accept; tcp dport 2380 drop; tcp sport 2380 drop; }',
      '  chain output { type filter hook output priority -300; policy accept; tcp dport 2380 drop; tcp sport 2380 drop; }',
      '}',
    ].join('\n'));
    m.cut = true;
    return Date.now();
  }

  /** Undo `cut(name)` or `cutPeers(name)`. */
  async heal(name: string): Promise<number> {
    const m = this.member(name);
    await sh('ip', ['netns', 'exec', m.ns, 'nft', 'delete', 'table', 'inet', 'pvsync_cut']);
    m.cut = false;
    return Date.now();
  }

  /** The end of a member's etcd log (for failure messages). */
  logTail(name: string, lines = 20): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Kill the members, delete namespaces, links and data. Safe to call twice. */
  async stop(): Promise<void> {
    for (const m of this.members) {
      if (m.proc?.pid !== undefined && m.proc.exitCode === null) m.proc.kill('SIGKILL');
    }
    for (const m of this.members) {
      const { stdout: pids } = await run('ip', ['netns', 'pids', m.ns]).catch(() => ({ stdout: '' }));
      for (const pid of pids.split('\n').filter(Boolean)) quietKill(Number(pid));
      await quiet(run('ip', ['netns', 'del', m.ns]));
    }
    for (let i = 1; i <= this.members.length; i++) await quiet(run('ip', ['link', 'del', `pvh${process.pid}x${i}`]));
    await quiet(run('ip', ['link', 'del', this.bridge]));
    await rm(this.dir, { recursive: true, force: true });
  }
}
