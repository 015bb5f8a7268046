/**
 * `pvsync archiver-sim`: the stand-in Archiver Appliance (docs/archiver-appliance-sim.md). At start it loads its
 * identity's PVTypeInfo rows, the aliases and the pending ArchivePVRequests from MariaDB, answers 500 on every BPL
 * but ping/startupState until start-up completes, then serves the management API, writes every change through to
 * the database and samples each archived PV into `<data>/<pv>.jsonl` (CA where reachable, else synthetic 10 Hz).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SimServer } from '../adapters/archiver-bpl/sim-server.js';
import { CaReader } from '../adapters/ca/ca-reader.js';
import { ArchapplStore } from '../adapters/mariadb/archappl.js';
import { decodeTypeInfo, decodeUserParams, type TypeInfo, type UserParams } from '../core/archiver/appliance-rows.js';
import { SimAppliance, type RowEffect, type StartupState } from '../core/archiver/sim-appliance.js';
import { backoffMs } from '../core/backoff.js';
import { messageOf } from '../core/errors.js';

/** Settings of one stand-in appliance. */
export interface SimSettings {
  readonly identity: string;
  readonly db: string;
  readonly database?: string;
  readonly port: number;
  readonly host?: string;
  /** Directory of the per-PV sample files; no sampling when absent. */
  readonly dataDir?: string;
  /** Name written in each sample (which node sampled), default the identity. */
  readonly node?: string;
  /** Time spent in start-up after the database is loaded (default 1000 ms). */
  readonly startupMs?: number;
  /** Time an archive request spends in the workflow (default 300 ms). */
  readonly workflowMs?: number;
  /** Sample over Channel Access where the IOC answers (default true). */
  readonly ca?: boolean;
  readonly pidFile?: string;
  /** Fence like a service under archiver-agent: stop when the agent dies or its watchdog file expires. */
  readonly watchdog?: { readonly file: string; readonly agentPid: number };
  readonly env: Readonly<Record<string, string>>;
}

/** A file name for a PV's samples (names may hold ':' and other characters). */
export function sampleFileName(pv: string): string {
  return `${encodeURIComponent(pv)}.jsonl`;
}

function mayAct(w: SimSettings['watchdog']): string | null {
  if (w === undefined) return null;
  try {
    process.kill(w.agentPid, 0);
  } catch {
    return 'agent gone';
  }
  try {
    const v = JSON.parse(readFileSync(w.file, 'utf8')) as { validUntil?: unknown };
    return typeof v.validUntil === 'number' && Date.now() < v.validUntil ? null : 'watchdog expired';
  } catch {
    return 'no watchdog';
  }
}

/** A running stand-in; `stop()` ends it. */
export class ArchiverSim {
  private state: StartupState = 'ZEROTH_STATE';
  private sim: SimAppliance | null = null;
  private store: ArchapplStore | null = null;
  private server: SimServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private outbox: RowEffect[] = [];
  private flushing: Promise<void> | null = null;
  private ca: CaReader | null = null;
  private readonly due = new Map<string, number>();
  private readonly buffered = new Map<string, string[]>();
  /** Time of each sampled PV's last sample (getPVStatus's lastEvent). */
  private readonly lastSample = new Map<string, number>();
  private lastFlush = 0;
  private port = 0;
  /** Resolves when the sim stops by itself (fenced) or is stopped. */
  readonly done: Promise<string>;
  private finish: (why: string) => void = () => undefined;

  constructor(private readonly s: SimSettings, private readonly log: Logger) {
    this.done = new Promise((resolve) => { this.finish = resolve; });
  }

  /** Listen at once (ping answers), then load the database and complete start-up in the background. */
  async start(): Promise<number> {
    const backend = {
      sim: () => this.simOrThrow(),
      startupState: () => this.state,
      persist: (e: readonly RowEffect[]) => this.persist(e),
      now: () => Date.now(),
      mgmtUrl: () => `http://${this.s.host ?? '127.0.0.1'}:${this.port}/mgmt`,
      lastSampleAt: (pv: string) => this.lastSample.get(pv),
    };
    this.server = new SimServer(backend);
    this.port = await this.server.listen(this.s.port, this.s.host);
    if (this.s.pidFile !== undefined) await writeFile(this.s.pidFile, String(process.pid));
    void this.boot().catch((err: unknown) => {
      this.log.error({ err: messageOf(err) }, 'start-up failed');
      void this.stop('start-up failed');
    });
    return this.port;
  }

  private simOrThrow(): SimAppliance {
    if (this.sim === null) throw new Error('start-up not complete');
    return this.sim;
  }

  private async boot(): Promise<void> {
    for (let failures = 1; this.store === null && !this.stopped; failures++) {
      try {
        this.store = await ArchapplStore.open(this.s.db, this.s.database);
      } catch (err) {
        this.log.warn({ err: messageOf(err) }, 'archappl database not reachable; retrying');
        await sleep(backoffMs(failures, 200, 5000));
      }
    }
    if (this.store === null) return;
    this.state = 'READY_TO_JOIN_APPLIANCE';
    const infos: TypeInfo[] = [];
    let dropped = 0;
    for (const r of await this.store.typeInfos()) {
      const t = decodeTypeInfo(r.value);
      if (t === null) dropped++;
      else if (t.applianceIdentity === this.s.identity) infos.push(t);
    }
    const aliases = new Map((await this.store.aliases()).map((r) => [r.name, r.value]));
    const requests = new Map<string, UserParams>();
    for (const r of await this.store.requests()) {
      const p = decodeUserParams(r.value);
      if (p !== null) requests.set(r.name, p);
    }
    this.state = 'POST_STARTUP_RUNNING';
    this.sim = new SimAppliance(this.s.identity, infos, aliases, requests, Date.now(), this.s.workflowMs ?? 300);
    this.log.info({ identity: this.s.identity, pvs: this.sim.pvs.size, requests: requests.size, dropped }, 'loaded from archappl');
    if (this.s.dataDir !== undefined) {
      await mkdir(this.s.dataDir, { recursive: true });
      if (this.s.ca !== false) this.ca = await CaReader.open(this.s.env, this.log).catch(() => null);
    }
    await sleep(this.s.startupMs ?? 1000);
    if (this.stopped) return;
    this.state = 'STARTUP_COMPLETE';
    this.log.info({ port: this.port }, 'start-up complete');
    this.timer = setInterval(() => this.tick(), 100);
  }

  private tick(): void {
    const why = mayAct(this.s.watchdog);
    if (why !== null) {
      void this.stop(why);
      return;
    }
    const sim = this.sim;
    if (sim === null) return;
    const now = Date.now();
    const effects = sim.tick(now);
    if (effects.length > 0) void this.persist(effects).catch(() => undefined);
    if (this.s.dataDir !== undefined) void this.sample(sim, now);
  }

  private async sample(sim: SimAppliance, now: number): Promise<void> {
    const dir = this.s.dataDir ?? '';
    const node = this.s.node ?? this.s.identity;
    const live = new Set<string>();
    const writes: Promise<void>[] = [];
    for (const t of sim.sampled()) {
      live.add(t.pvName);
      // MONITOR: every change of a 10 Hz source; SCAN: one sample per period.
      const stepMs = t.samplingMethod === 'SCAN' ? Math.max(100, t.samplingPeriod * 1000) : 100;
      const next = this.due.get(t.pvName) ?? 0;
      if (now < next) continue;
      this.due.set(t.pvName, Math.max(next + stepMs, now - stepMs));
      const caValue = this.ca?.latest(t.pvName, now);
      const v = caValue ?? Math.round(Math.sin(now / 1000) * 1e6) / 1e6;
      const line = JSON.stringify({ t: now, v, node, src: caValue === undefined ? 'synthetic' : 'ca',
        method: t.samplingMethod, period: t.samplingPeriod });
      this.lastSample.set(t.pvName, now);
      const buf = this.buffered.get(t.pvName);
      if (buf === undefined) this.buffered.set(t.pvName, [line]);
      else buf.push(line);
    }
    // Files are appended once a second per PV (the samples carry their own times).
    if (now - this.lastFlush >= 1000) {
      this.lastFlush = now;
      for (const [pv, lines] of this.buffered) writes.push(appendFile(join(dir, sampleFileName(pv)), `${lines.join('\n')}\n`));
      this.buffered.clear();
    }
    for (const pv of this.due.keys()) {
      if (!live.has(pv)) {
        this.due.delete(pv);
        this.lastSample.delete(pv);
        this.ca?.forget(pv);
      }
    }
    await Promise.allSettled(writes);
  }

  /** Write through; while MariaDB is down the effects wait in order and are retried with back-off. */
  private persist(effects: readonly RowEffect[]): Promise<void> {
    this.outbox.push(...effects);
    this.flushing ??= this.flush().finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private async flush(): Promise<void> {
    for (let failures = 0; this.outbox.length > 0 && this.store !== null;) {
      const batch = this.outbox;
      this.outbox = [];
      try {
        await this.store.apply(batch);
        failures = 0;
      } catch (err) {
        this.outbox = [...batch, ...this.outbox];
        failures++;
        this.log.warn({ err: messageOf(err), pending: this.outbox.length }, 'write-through failed; retrying');
        if (this.stopped) return;
        await sleep(backoffMs(failures, 100, 5000));
      }
    }
  }

  /** Stop serving and sampling (pending write-through gets a few seconds). */
  async stop(why = 'stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.info({ why }, 'stopping');
    if (this.timer !== null) clearInterval(this.timer);
    const dir = this.s.dataDir;
    if (dir !== undefined) {
      await Promise.allSettled([...this.buffered].map(([pv, lines]) => appendFile(join(dir, sampleFileName(pv)), `${lines.join('\n')}\n`)));
      this.buffered.clear();
    }
    await Promise.race([this.flushing ?? Promise.resolve(), sleep(3000)]);
    await this.server?.close();
    this.ca?.close();
    await this.store?.close();
    this.finish(why);
  }
}
