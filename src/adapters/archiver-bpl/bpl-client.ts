/**
 * A client of the Archiver Appliance's management BPLs (`<mgmt>/bpl/…`, domain.md §6) on Node's fetch, with the
 * appliance's quirks: JSON POST bodies need `Content-Type` exactly `application/json` (a charset suffix makes it
 * read the body as form data), `samplingperiod` is a string, and every BPL but ping/startupState answers 500 until
 * start-up is complete. Every call has a deadline; failures are PVS_APPLIANCE errors marked retryable.
 */
import type { ArchiveRequest, ParameterChange } from '../../core/archiver/plan.js';
import { PvsError, messageOf } from '../../core/errors.js';

/** One JSON object of a BPL answer (the appliance writes every value as a string). */
export type BplEntry = Readonly<Record<string, unknown>>;

/** Options of a client. */
export interface BplClientOptions {
  /** Deadline of one request (default 10 s). */
  readonly timeoutMs?: number;
  /** Names per getPVStatus / pause / resume / archivePV POST (default 500). */
  readonly batch?: number;
}

/** Talks to one appliance's management interface, e.g. `http://arch1:17665/mgmt`. */
export class BplClient {
  readonly base: string;
  private readonly timeoutMs: number;
  readonly batch: number;

  constructor(mgmtUrl: string, opts: BplClientOptions = {}) {
    this.base = `${mgmtUrl.replace(/\/+$/, '')}/bpl/`;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.batch = opts.batch ?? 500;
  }

  private async call(path: string, init: { method: 'GET' } | { method: 'POST'; body: unknown }): Promise<string> {
    const url = this.base + path;
    let res: Response;
    try {
      res = await fetch(url, init.method === 'GET'
        ? { signal: AbortSignal.timeout(this.timeoutMs) }
        : {
            method: 'POST', body: JSON.stringify(init.body), signal: AbortSignal.timeout(this.timeoutMs),
            // appliance: matched as the exact string, a "; charset=…" suffix is not JSON to it
            headers: { 'Content-Type': 'application/json' },
          });
    } catch (err) {
      throw new PvsError('PVS_APPLIANCE', `${url}: ${messageOf(err)}`, { retryable: true, cause: err });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      throw new PvsError('PVS_APPLIANCE', `${url}: HTTP ${res.status}${res.status === 500 ? ' (still starting?)' : ''}`,
        { retryable: res.status >= 500 || res.status === 429 });
    }
    return text;
  }

  private async json(path: string, init: { method: 'GET' } | { method: 'POST'; body: unknown }): Promise<unknown> {
    const text = await this.call(path, init);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new PvsError('PVS_APPLIANCE', `${this.base}${path}: the answer is not JSON`, { retryable: true, cause: err });
    }
  }

  private async list(path: string, body: readonly unknown[]): Promise<BplEntry[]> {
    const out: BplEntry[] = [];
    for (let i = 0; i < body.length; i += this.batch) {
      const r = await this.json(path, { method: 'POST', body: body.slice(i, i + this.batch) });
      // appliance: a one-element list answers a bare object, longer lists a list
      const items = Array.isArray(r) ? r : [r];
      for (const x of items) if (typeof x === 'object' && x !== null) out.push(x as BplEntry);
    }
    return out;
  }

  /** ping: true when it answers `pong`. */
  async ping(): Promise<boolean> {
    return (await this.call('ping', { method: 'GET' }).catch(() => '')).trim() === 'pong';
  }

  /** startupState: the appliance's start-up sequence state, e.g. STARTUP_COMPLETE. */
  async startupState(): Promise<string> {
    const r = await this.json('startupState', { method: 'GET' });
    const s = typeof r === 'object' && r !== null ? (r as BplEntry).status : undefined;
    if (typeof s !== 'string') throw new PvsError('PVS_APPLIANCE', `${this.base}startupState: no status`, { retryable: true });
    return s;
  }

  /** getPVStatus for any number of names (POSTed in batches), by pvName as asked. */
  async pvStatus(names: readonly string[]): Promise<Map<string, BplEntry>> {
    const out = new Map<string, BplEntry>();
    for (const e of await this.list('getPVStatus', names)) if (typeof e.pvName === 'string') out.set(e.pvName, e);
    return out;
  }

  /** archivePV: a POSTed JSON list with samplingperiod as a string. */
  archive(reqs: readonly ArchiveRequest[]): Promise<BplEntry[]> {
    return this.list('archivePV', reqs);
  }

  /** pauseArchivingPV for a list of names. */
  pause(names: readonly string[]): Promise<BplEntry[]> {
    return this.list('pauseArchivingPV', names);
  }

  /** resumeArchivingPV for a list of names. */
  resume(names: readonly string[]): Promise<BplEntry[]> {
    return this.list('resumeArchivingPV', names);
  }

  /** changeArchivalParameters for one PV (a GET; the appliance has no list form). */
  async change(c: ParameterChange): Promise<BplEntry> {
    const q = new URLSearchParams({ pv: c.pv, samplingperiod: c.samplingperiod, samplingmethod: c.samplingmethod });
    return (await this.json(`changeArchivalParameters?${q.toString()}`, { method: 'GET' })) as BplEntry;
  }

  /** getAllPVs: every name (limit=-1; the appliance returns only 500 without it). */
  async allPvs(pattern?: string): Promise<string[]> {
    const q = new URLSearchParams({ limit: '-1', ...(pattern === undefined ? {} : { pv: pattern }) });
    const r = await this.json(`getAllPVs?${q.toString()}`, { method: 'GET' });
    return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
  }

  /** deletePV for one (paused) name. */
  async delete(pv: string): Promise<BplEntry> {
    return (await this.json(`deletePV?${new URLSearchParams({ pv }).toString()}`, { method: 'GET' })) as BplEntry;
  }
}
