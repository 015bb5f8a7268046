/**
 * The partition scenario of issue 14, shared by test/integration/partition.test.ts and bench/partition.ts: on a
 * NetnsCluster, an uploader (the built CLI, TTL 2 s), two API replicas (in-process) and an archiver pair (agent
 * processes) run while samplers record, continuously: the IOC's liveness (in etcd and in both replicas), how long
 * each replica's mirror takes to show a revision committed in the cluster (a writer commits a tick every 100 ms),
 * and the stand-ins' samples. `cut(role)` cuts the leader or a follower off silently, writes through both
 * replicas until each succeeds, heals, and reports what was measured.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, memberGuardsOf } from '../../src/adapters/etcd/client.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { basic, startReplica, type Replica } from './api-replica.js';
import { ArchiverHarness } from './archiver-harness.js';
import { overlapSamples, runsOf, type Sample } from './failover-series.js';
import { NetnsCluster } from './netns-cluster.js';
import { startPvsync, until, type PvsyncProcess } from './processes.js';

const ST_CMD = resolve('examples/linac-bpm/st.cmd');
const HOST = 'parthost';
const IOC_ID = `linac-bpm@${HOST}`;
const R = '/ChannelFinder/resources';

/** What one cut showed. */
export interface CutReport {
  readonly role: 'leader' | 'follower';
  readonly member: string;
  /** Per replica: ms from the cut to the first write through it that succeeded. */
  readonly firstWriteMs: readonly number[];
  /** Per replica: the longest time a revision committed in the cluster took to show in its mirror (ms). */
  readonly mirrorStallMs: readonly number[];
  /** The longest time any channel of the live IOC looked Inactive (in etcd or either replica), in ms; 0 = never. */
  readonly livenessGapMs: number;
  /** Stand-in samples written inside another node's run (two active nodes), over the cut. */
  readonly overlapSamples: number;
  /** The active node and token before and after, and how many runs (starts) its stand-in had in the window. */
  readonly activeBefore: { node: string; token: string };
  readonly activeAfter: { node: string; token: string } | null;
  readonly activeRunsInWindow: number;
  /** Largest gap between the active stand-in's samples in the window (ms). */
  readonly activeMaxGapMs: number;
  /** ms from the heal until the member answers with a leader again. */
  readonly rejoinMs: number;
  /** Whether, after the heal, both replicas show exactly what a fresh snapshot of etcd shows. */
  readonly replicasEqualEtcd: boolean;
}

interface Tick { rev: number; at: number; shown: (number | null)[] }

/** The running scenario; `stop()` it in a finally. */
export class PartitionScenario {
  private ticks: Tick[] = [];
  private inactive: { from: number; to: number }[] = [];
  private inactiveSince: number | null = null;
  private sampling = true;
  private loops: Promise<void>[] = [];

  private constructor(
    readonly cluster: NetnsCluster,
    readonly keys: Keyspace,
    readonly replicas: readonly Replica[],
    readonly archivers: ArchiverHarness,
    readonly uploader: PvsyncProcess,
    private readonly writer: Etcd3,
  ) {}

  /** Start everything and wait until the IOC is Active everywhere and the archiver pair has settled. */
  static async start(): Promise<PartitionScenario> {
    const cluster = await NetnsCluster.start();
    const parts: { replicas: Replica[]; archivers?: ArchiverHarness; uploader?: PvsyncProcess; writer?: Etcd3 } = { replicas: [] };
    try {
      const endpoints = cluster.endpoints;
      const keys = new Keyspace(`/pvsync-partition-${process.pid}/`);
      parts.uploader = startPvsync(['upload', '--st-cmd', ST_CMD, '--endpoints', endpoints.join(','), '--root', keys.root,
        '--ttl', '2', '--host', HOST]);
      for (let i = 0; i < 2; i++) parts.replicas.push(await startReplica(keys, { endpoints }));
      parts.archivers = await ArchiverHarness.start({ endpoints, root: keys.root, ttlS: 2 });
      parts.writer = createEtcdClient(endpoints, { callTimeoutMs: 2000 });
      const s = new PartitionScenario(cluster, keys, parts.replicas, parts.archivers, parts.uploader, parts.writer);
      const up = parts.uploader;
      await until('the IOC is Active in both replicas', async () => {
        if (up.child.exitCode !== null) throw new Error(`uploader exited: ${up.output.join('').slice(-2000)}`);
        const counts = await Promise.all(s.replicas.map((r) => s.count(r, 'Active')));
        return counts.every((n) => n > 40);
      }, 30_000);
      await parts.archivers.waitSettled(30_000);
      s.loops = [s.tickLoop(), s.mirrorLoop(), s.livenessLoop()];
      await sleep(1000); // a steady series before any fault
      return s;
    } catch (err) {
      parts.uploader?.child.kill('SIGKILL');
      await parts.archivers?.stop();
      for (const r of parts.replicas) await r.stop();
      parts.writer?.close();
      await cluster.stop();
      throw err;
    }
  }

  /** Channels of the IOC with that pvStatus in one replica. */
  private async count(r: Replica, status: 'Active' | 'Inactive'): Promise<number> {
    const res = await r.app.inject({ method: 'GET', url: `${R}/channels?hostName=${HOST}&pvStatus=${status}&~size=100000` });
    if (res.statusCode !== 200) throw new Error(`query answered ${res.statusCode}`);
    return res.json<unknown[]>().length;
  }

  private async tickLoop(): Promise<void> {
    let n = 0;
    while (this.sampling) {
      const t0 = Date.now();
      try {
        // An unknown key under the root: the mirror applies its revision and ignores the value.
        const res = await this.writer.put(`${this.keys.root}tick`).value(String(n++)).exec();
        this.ticks.push({ rev: Number(res.header.revision), at: Date.now(), shown: this.replicas.map(() => null) });
      } catch {
        // the writer met the cut member; its client moves on
      }
      await sleep(Math.max(0, 100 - (Date.now() - t0)));
    }
  }

  private async mirrorLoop(): Promise<void> {
    while (this.sampling) {
      const now = Date.now();
      for (const [i, r] of this.replicas.entries()) {
        const rev = r.mirror.revision;
        for (const t of this.ticks) if (t.shown[i] === null && t.rev <= rev) t.shown[i] = now;
      }
      await sleep(20);
    }
  }

  private async livenessLoop(): Promise<void> {
    while (this.sampling) {
      const now = Date.now();
      let inactive = false;
      for (const r of this.replicas) {
        if ((await this.count(r, 'Inactive').catch(() => 0)) > 0) inactive = true;
      }
      const alive = await this.writer.get(this.keys.alive(IOC_ID)).options({ deadline: Date.now() + 300 }).exec()
        .then((res) => res.kvs.length > 0, () => true); // no answer in time says nothing about liveness
      if (!alive) inactive = true;
      if (inactive && this.inactiveSince === null) this.inactiveSince = now;
      if (!inactive && this.inactiveSince !== null) {
        this.inactive.push({ from: this.inactiveSince, to: now });
        this.inactiveSince = null;
      }
      await sleep(Math.max(0, 100 - (Date.now() - now)));
    }
  }

  /** Write through one replica until a write succeeds; ms from `from` to that success. */
  private async firstWrite(r: Replica, from: number, tag: string): Promise<number> {
    for (;;) {
      const res = await r.app.inject({
        method: 'PUT', url: `${R}/tags/${tag}`, headers: { authorization: basic('admin'), 'content-type': 'application/json' },
        payload: JSON.stringify({ name: tag, owner: 'admin' }),
      });
      if (res.statusCode === 200) return Date.now() - from;
      if (Date.now() - from > 30_000) throw new Error(`no write through a replica within 30 s: ${res.statusCode} ${res.body}`);
      await sleep(20);
    }
  }

  /** Cut the leader or a follower for `cutMs`, heal, and report. */
  async cut(role: 'leader' | 'follower', cutMs: number): Promise<CutReport> {
    const leader = await this.cluster.leader();
    const member = role === 'leader' ? leader : this.cluster.members.find((m) => m.name !== leader)?.name ?? '';
    const before = await this.archivers.status();
    if (before.active === null) throw new Error('no active archiver before the cut');
    const activeBefore = { node: before.active.node, token: before.active.token };
    // The worst case the issue met: the member carries both replicas' watch streams.
    await this.steerWatches(this.cluster.member(member).endpoint);
    const ticksBefore = this.ticks.length;
    const inactiveBefore = this.inactive.length;
    const cutAt = await this.cluster.cut(member);
    const writes = Promise.all(this.replicas.map((r, i) => this.firstWrite(r, cutAt, `part-${role}-${i}-${cutAt}`)));
    await sleep(cutMs);
    const firstWriteMs = await writes;
    const healAt = await this.cluster.heal(member);
    let rejoinMs = -1;
    await until('the healed member answers with a leader', async () => {
      const s = await this.cluster.status(member);
      if (s !== undefined && s.leaderId !== '0') rejoinMs = Date.now() - healAt;
      return rejoinMs >= 0;
    }, 20_000);
    await sleep(1000);
    const endAt = Date.now();
    const after = await this.archivers.status();
    const ticks = this.ticks.slice(ticksBefore).filter((t) => t.at <= endAt - 500);
    const mirrorStallMs = this.replicas.map((_, i) => Math.max(0, ...ticks.map((t) => (t.shown[i] ?? endAt) - t.at)));
    const gaps = this.inactive.slice(inactiveBefore).map((g) => g.to - g.from);
    if (this.inactiveSince !== null) gaps.push(endAt - this.inactiveSince);
    const samples = (await this.archivers.samples()).filter((s) => s.t >= cutAt - 200 && s.t <= endAt);
    const mine = samples.filter((s) => s.node === activeBefore.node);
    return {
      role, member, firstWriteMs, mirrorStallMs, livenessGapMs: Math.max(0, ...gaps),
      overlapSamples: overlapSamples(samples).length,
      activeBefore, activeAfter: after.active === null ? null : { node: after.active.node, token: after.active.token },
      activeRunsInWindow: runsOf(mine).length, activeMaxGapMs: maxGap(mine),
      rejoinMs, replicasEqualEtcd: await this.replicasEqualEtcd(),
    };
  }

  /** Re-establish each replica's watch until it runs on `endpoint` (etcd3 picks a member at random). */
  private async steerWatches(endpoint: string): Promise<void> {
    for (const r of this.replicas) {
      const g = memberGuardsOf(r.client);
      if (g === undefined) throw new Error('replica client without member guards');
      for (let i = 0; g.streamsOn(endpoint) === 0; i++) {
        if (i >= 50) throw new Error(`could not move a watch onto ${endpoint}`);
        g.cancelStreams();
        await sleep(250); // etcd3 re-establishes the stream after a back-off of ~128 ms
        await until('the watch is re-established', () => r.mirror.ready && g.members.some((m) => g.streamsOn(m) > 0), 10_000);
      }
    }
  }

  /** Both replicas answer exactly what a replica freshly loaded from etcd answers (retried for up to 5 s). */
  private async replicasEqualEtcd(): Promise<boolean> {
    const fresh = await startReplica(this.keys, { endpoints: this.cluster.endpoints });
    try {
      const view = async (r: Replica): Promise<string> => {
        const parts = await Promise.all([`${R}/channels?~name=*&~size=100000`, `${R}/tags`, `${R}/properties`]
          .map(async (url) => (await r.app.inject({ method: 'GET', url })).body));
        return parts.join('\n');
      };
      const end = Date.now() + 5000;
      for (;;) {
        const want = await view(fresh);
        const got = await Promise.all(this.replicas.map(view));
        if (got.every((g) => g === want)) return true;
        if (Date.now() > end) return false;
        await sleep(100);
      }
    } finally {
      await fresh.stop();
    }
  }

  /** The end of a member's etcd log and the agents' logs, for failure messages. */
  async diagnostics(): Promise<string> {
    const logs = await Promise.all(this.archivers.nodes.map(async (n) => `agent ${n}:\n${(await this.archivers.log(n)).split('\n').slice(-15).join('\n')}`));
    return [...logs, `uploader:\n${this.uploader.output.join('').split('\n').slice(-15).join('\n')}`].join('\n');
  }

  /** Stop samplers and everything started. */
  async stop(): Promise<void> {
    this.sampling = false;
    await Promise.all(this.loops);
    this.uploader.child.kill('SIGTERM');
    await Promise.race([this.uploader.exited, sleep(5000)]);
    this.uploader.child.kill('SIGKILL');
    await this.archivers.stop();
    for (const r of this.replicas) await r.stop();
    this.writer.close();
    await this.cluster.stop();
  }
}

function maxGap(samples: readonly Sample[]): number {
  let gap = 0;
  for (let i = 1; i < samples.length; i++) gap = Math.max(gap, (samples[i]?.t ?? 0) - (samples[i - 1]?.t ?? 0));
  return gap;
}
