/**
 * The stand-in appliance's management interface on node:http: the BPL paths of the real one under `/mgmt/bpl/`,
 * with its quirks (500 until start-up is complete except ping/startupState, JSON bodies only with Content-Type
 * exactly `application/json`, one-element pause/resume lists answered with a bare object, getAllPVs capped at 500
 * unless limit=-1). Requests are handled one at a time so that write-through keeps their order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeTypeInfo } from '../../core/archiver/appliance-rows.js';
import type { SamplingMethod } from '../../core/archiver/archive-spec.js';
import type { ArchiveRequest } from '../../core/archiver/plan.js';
import { SIM_POLICIES, type RowEffect, type SimAppliance, type StartupState } from '../../core/archiver/sim-appliance.js';
import { messageOf } from '../../core/errors.js';

/** What the server drives. */
export interface SimBackend {
  /** The appliance state (called only once start-up is complete). */
  sim(): SimAppliance;
  startupState(): StartupState;
  /** Write row effects through to the database before the answer goes out. */
  persist(effects: readonly RowEffect[]): Promise<void>;
  now(): number;
  readonly mgmtUrl: () => string;
  /** When the PV's last sample was taken (getPVStatus's lastEvent); none without sampling. */
  lastSampleAt?(pv: string): number | undefined;
}

const MAX_BODY = 32 * 1024 * 1024;

class HttpFail extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpFail(413, 'body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function jsonList(req: IncomingMessage): Promise<unknown[]> {
  // appliance: the exact string; "application/json; charset=utf-8" is read as form data (no pv → 400)
  if (req.headers['content-type'] !== 'application/json') throw new HttpFail(400, 'pv missing');
  let v: unknown;
  try {
    v = JSON.parse(await readBody(req));
  } catch {
    throw new HttpFail(500, 'unparseable JSON body');
  }
  if (!Array.isArray(v)) throw new HttpFail(500, 'the body must be a JSON list');
  return v;
}

function names(list: readonly unknown[]): string[] {
  return list.map((x) => (typeof x === 'string' ? x : typeof x === 'object' && x !== null ? String((x as { pv?: unknown }).pv ?? '') : ''))
    .filter((s) => s !== '');
}

function method(s: string | null): SamplingMethod | undefined {
  if (s === null || s === '') return undefined;
  const m = s.toUpperCase();
  if (m !== 'MONITOR' && m !== 'SCAN') throw new HttpFail(400, `bad samplingmethod ${s}`);
  return m;
}

function archiveRequest(x: unknown): ArchiveRequest {
  if (typeof x !== 'object' || x === null) throw new HttpFail(400, 'archivePV: list items are objects');
  const o = x as Record<string, unknown>;
  if (typeof o.pv !== 'string' || o.pv === '') throw new HttpFail(400, 'archivePV: pv missing');
  // appliance: samplingperiod is read as a string; a JSON number fails its cast
  if (o.samplingperiod !== undefined && typeof o.samplingperiod !== 'string') throw new HttpFail(500, 'samplingperiod must be a string');
  const m = method(typeof o.samplingmethod === 'string' ? o.samplingmethod : null);
  return {
    pv: o.pv, ...(m === undefined ? {} : { samplingmethod: m }),
    ...(typeof o.samplingperiod === 'string' ? { samplingperiod: o.samplingperiod } : {}),
    ...(typeof o.policy === 'string' ? { policy: o.policy } : {}),
  };
}

/** Handle one request against the backend; returns the status and body. */
async function handle(b: SimBackend, req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
  const path = url.pathname.replace(/^\/mgmt\/bpl\//, '');
  const q = url.searchParams;
  if (path === 'ping') return { status: 200, body: 'pong' };
  if (path === 'startupState') return { status: 200, body: { status: b.startupState() } };
  if (b.startupState() !== 'STARTUP_COMPLETE') throw new HttpFail(500, 'start-up not complete');
  const sim = b.sim();
  const now = b.now();
  const pvParam = (): string[] => (q.get('pv') ?? '').split(',').filter((s) => s !== '');
  const post = req.method === 'POST';
  switch (path) {
    case 'getPVStatus': {
      const list = post ? names(await jsonList(req)) : pvParam();
      const last = (pv: string): number | undefined => b.lastSampleAt?.(pv);
      return { status: 200, body: list.map((n) => sim.status(n, last)) };
    }
    case 'archivePV': {
      let reqs: ArchiveRequest[];
      if (post) reqs = (await jsonList(req)).map(archiveRequest);
      else {
        const m = method(q.get('samplingmethod'));
        const per = q.get('samplingperiod');
        const pol = q.get('policy');
        reqs = pvParam().map((pv) => ({
          pv, ...(m === undefined ? {} : { samplingmethod: m }), ...(per === null ? {} : { samplingperiod: per }),
          ...(pol === null ? {} : { policy: pol }),
        }));
      }
      if (reqs.length === 0) throw new HttpFail(400, 'pv missing');
      const r = sim.archive(reqs, now);
      await b.persist(r.effects);
      return { status: 200, body: !post && r.results.length === 1 ? r.results[0] : r.results };
    }
    case 'pauseArchivingPV': case 'resumeArchivingPV': {
      const list = post ? names(await jsonList(req)) : pvParam();
      if (list.length === 0) throw new HttpFail(400, 'pv missing');
      const r = sim.setPaused(list, path === 'pauseArchivingPV', now);
      await b.persist(r.effects);
      return { status: 200, body: r.results.length === 1 ? r.results[0] : r.results };
    }
    case 'changeArchivalParameters': {
      const pv = q.get('pv') ?? '';
      const per = Number(q.get('samplingperiod') ?? '');
      if (pv === '' || !(per > 0)) throw new HttpFail(400, 'pv and samplingperiod are required');
      const r = sim.change(pv, per, method(q.get('samplingmethod')), now);
      await b.persist(r.effects);
      return { status: 200, body: r.result };
    }
    case 'getAllPVs': {
      const lim = q.get('limit');
      return { status: 200, body: sim.allPvs(q.get('pv') ?? undefined, lim === null ? undefined : Number(lim)) };
    }
    case 'deletePV': case 'renamePV': {
      const pv = q.get('pv') ?? '';
      if (pv === '') throw new HttpFail(400, 'pv missing');
      const to = q.get('newname') ?? '';
      if (path === 'renamePV' && to === '') throw new HttpFail(400, 'newname missing');
      const r = path === 'deletePV' ? sim.delete(pv) : sim.rename(pv, to, now);
      await b.persist(r.effects);
      return { status: 200, body: r.result };
    }
    case 'getPVTypeInfo': {
      const t = sim.pvs.get(sim.aliases.get(q.get('pv') ?? '') ?? q.get('pv') ?? '');
      if (t === undefined) throw new HttpFail(404, 'no such PV');
      return { status: 200, body: JSON.parse(encodeTypeInfo(t)) as unknown };
    }
    case 'getPolicyList':
      return { status: 200, body: Object.fromEntries(Object.entries(SIM_POLICIES).map(([k, v]) => [k, v.desc])) };
    case 'getApplianceInfo':
      return { status: 200, body: { identity: sim.identity, mgmtURL: b.mgmtUrl(), startupState: b.startupState() } };
    default:
      throw new HttpFail(404, `no BPL ${path}`);
  }
}

/** The stand-in's HTTP server; `listen` resolves with the bound port. */
export class SimServer {
  private readonly server: Server;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly backend: SimBackend) {
    this.server = createServer((req, res) => {
      this.chain = this.chain.then(() => this.serve(req, res));
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    try {
      if (!url.pathname.startsWith('/mgmt/bpl/')) throw new HttpFail(404, 'not a BPL path');
      const r = await handle(this.backend, req, url);
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status, { 'Content-Type': typeof r.body === 'string' ? 'text/plain' : 'application/json' });
      res.end(text);
    } catch (err) {
      const status = err instanceof HttpFail ? err.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(messageOf(err));
    }
  }

  /** Listen on `port` (0 = any) at `host`; returns the port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stop accepting and close open connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
