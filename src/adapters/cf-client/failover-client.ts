/**
 * A ChannelFinder client over several installations (docs/operations.md, "Several installations"): it uses the
 * first endpoint (the nearest installation) and, on a connection failure, a timeout, a 5xx or a 429, moves to the
 * next endpoint that answers, at the start or in the middle of a session (a paged scroll, a watch stream). While it
 * is away from the endpoints it prefers it probes them in the background (`/healthz`, with back-off from
 * core/backoff.ts, honouring Retry-After) and moves back when one answers; no request waits on a probe, so a frozen
 * preferred server never slows the session served elsewhere. A scroll continues after the last name it returned
 * (`/resources/scroll/{name}`), so every channel comes exactly once wherever each page is served and whatever is
 * written meanwhile. A watch stream that moves between servers of one installation resumes exactly (Last-Event-ID);
 * one that moves to another installation gets a `reset` (revisions are per installation), never a silent gap.
 */
import { backoffMs } from '../../core/backoff.js';
import { compareNames } from '../../core/directory/name-order.js';
import { PvsError } from '../../core/errors.js';
import { readSse } from './sse-reader.js';

/** One server of one installation's API. Several endpoints may name the same installation. */
export interface ClientEndpoint {
  readonly installation: string;
  readonly url: string;
}

/** Options of the client. */
export interface FailoverClientOptions {
  /** In preference order: the nearest installation's servers first, then the others holding the data type. */
  readonly endpoints: readonly ClientEndpoint[];
  /** Deadline of one request, and of a watch stream's response head (default 5 000 ms). */
  readonly timeoutMs?: number;
  /** Back-off of the probes of an endpoint that failed (defaults 500 ms doubling to 30 s). */
  readonly probeBaseMs?: number;
  readonly probeCapMs?: number;
  /**
   * A watch stream on which nothing arrives this long, not even a `progress` heartbeat, is taken as lost (default
   * 45 000 ms; keep it above the servers' `--watch-heartbeat`, 15 s by default).
   */
  readonly watchIdleMs?: number;
  readonly now?: () => number;
  /** Told of every move between endpoints. */
  readonly onMove?: (from: ClientEndpoint, to: ClientEndpoint, reason: string) => void;
}

/** A successful answer and who gave it. */
export interface ClientReply {
  readonly endpoint: ClientEndpoint;
  readonly status: number;
  readonly body: unknown;
}

/** A channel as the API returns it. */
export interface ClientChannel {
  readonly name: string;
  readonly owner?: string;
  readonly properties?: readonly { name: string; value: string }[];
  readonly tags?: readonly { name: string }[];
}

/** An event of a watch session: the server's (`sync`, `change`, `progress`, `reset`), or `reset` after a move. */
export interface WatchEvent {
  readonly type: string;
  readonly installation: string;
  readonly id: number;
  readonly data: unknown;
}

interface State {
  failures: number;
  /** Not tried (nor probed) before this time, unless nothing else answers. */
  retryAt: number;
  why: string;
}

/** How one watch stream ended: it must move (failure text), the client moved it, or the caller stopped. */
type StreamEnd = { readonly kind: 'failed'; readonly why: string; readonly retryAfter: string | null } | { readonly kind: 'moved' | 'stopped' };

const unusable = (status: number): boolean => status >= 500 || status === 429;
const errorText = (err: unknown): string => (err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err));

/** Failover and fallback over several installations' APIs. */
export class FailoverClient {
  private active = 0;
  private readonly state: State[];
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly movedListeners = new Set<() => void>();
  private readonly stopProbes = new AbortController();
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private probing: Promise<boolean> | null = null;

  constructor(private readonly opts: FailoverClientOptions) {
    if (opts.endpoints.length === 0) throw new PvsError('PVS_CONFIG', 'the failover client needs at least one endpoint');
    this.state = opts.endpoints.map(() => ({ failures: 0, retryAt: 0, why: '' }));
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** The endpoint in use. */
  get current(): ClientEndpoint {
    return this.opts.endpoints[this.active]!;
  }

  /** Stop probing in the background (a client no longer used); requests still work. */
  close(): void {
    this.stopProbes.abort();
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  /** GET `path` (with query) from the best endpoint that answers; PVS_UNAVAILABLE when none does. */
  async get(path: string): Promise<ClientReply> {
    const failures: string[] = [];
    for (const i of this.order()) {
      const ep = this.opts.endpoints[i]!;
      let status: number;
      let text: string;
      try {
        const res = await fetch(new URL(path, ep.url), { signal: AbortSignal.timeout(this.timeoutMs) });
        status = res.status;
        if (unusable(status)) {
          await res.body?.cancel().catch(() => undefined);
          failures.push(this.failed(i, `HTTP ${status}`, res.headers.get('retry-after')));
          continue;
        }
        text = await res.text(); // under the same deadline: a server that stops mid-body fails over too
      } catch (err) {
        failures.push(this.failed(i, errorText(err), null));
        continue;
      }
      this.answered(i);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: handed over as text
      }
      return { endpoint: ep, status, body };
    }
    throw new PvsError('PVS_UNAVAILABLE', `no installation answered ${path}: ${failures.join('; ')}`, { retryable: true });
  }

  /**
   * Every channel matching `query` (ChannelFinder query string without ~size/~from), page by page in name order.
   * Each page asks for the channels after the last name returned, from whichever endpoint answers: each channel
   * comes once, in order, and one created, removed or moved meanwhile cannot shift a page past another.
   */
  async *scroll(query: string, pageSize = 1000): AsyncGenerator<ClientChannel> {
    const q = query === '' ? '' : `${query}&`;
    let after: string | null = null;
    for (;;) {
      const from = after === null ? '' : `/${encodeURIComponent(after)}`;
      const r = await this.get(`/ChannelFinder/resources/scroll${from}?${q}~size=${pageSize}`);
      const page = r.body as { channels?: unknown; message?: unknown } | null;
      if (r.status !== 200 || page === null || typeof page !== 'object' || !Array.isArray(page.channels)) {
        const detail = typeof page?.message === 'string' ? `: ${page.message}` : '';
        throw new PvsError('PVS_QUERY', `query refused by ${r.endpoint.installation} (${r.endpoint.url}): HTTP ${r.status}${detail}`);
      }
      const list = page.channels as ClientChannel[];
      for (const ch of list) {
        // A server ordering names differently must not make the scroll repeat one.
        if (after !== null && compareNames(ch.name, after) <= 0) continue;
        after = ch.name;
        yield ch;
      }
      if (list.length < pageSize) return;
    }
  }

  /**
   * Follow `GET /api/v1/watch?query` until `signal` aborts. A lost stream resumes with Last-Event-ID (exactly) at a
   * server of the same installation; when it moves to another installation (failure, or a preferred one answers
   * again) the handler gets a `reset` naming the move before the new stream's `sync`: re-list then.
   */
  async watch(query: string, handler: (ev: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    let at: string | null = null;
    let lastId: number | null = null;
    while (!signal.aborted) {
      const i = this.order()[0]!;
      const wait = this.state[i]!.retryAt - this.now();
      if (wait > 0) {
        // Every endpoint failed just now: wait for the first one due rather than spin.
        await pause(wait, signal);
        continue;
      }
      const ep = this.opts.endpoints[i]!;
      const end = await this.streamOnce(i, query, ep.installation === at ? lastId : null, signal, () => {
        if (at !== null && ep.installation !== at) {
          handler({ type: 'reset', installation: ep.installation, id: 0, data: { reason: `moved from installation ${at} to ${ep.installation}: re-list` } });
        }
        if (ep.installation !== at) lastId = null;
        at = ep.installation;
      }, (type, id, data) => {
        lastId = id;
        handler({ type, installation: ep.installation, id, data });
      });
      if (end.kind === 'failed') this.failed(i, end.why, end.retryAfter);
    }
  }

  /**
   * Probe now the endpoints preferred over the one in use whose back-off is over; true when one answered (it is in
   * use from then on). The client does this by itself while it is away from its first endpoint.
   */
  probePreferred(): Promise<boolean> {
    this.probing ??= this.probeDue().finally(() => {
      this.probing = null;
      this.scheduleProbe();
    });
    return this.probing;
  }

  /** One watch request on endpoint `i`: `opened` once it answers 200, `on` per event, until it ends or is cut. */
  private async streamOnce(
    i: number, query: string, resume: number | null, signal: AbortSignal, opened: () => void, on: (type: string, id: number, data: unknown) => void,
  ): Promise<StreamEnd> {
    const ep = this.opts.endpoints[i]!;
    const ctl = new AbortController();
    let end: StreamEnd | null = null;
    const cut = (e: StreamEnd): void => {
      end ??= e;
      ctl.abort();
    };
    const onStop = (): void => cut({ kind: 'stopped' });
    const onMoved = (): void => {
      if (this.active !== i) cut({ kind: 'moved' });
    };
    signal.addEventListener('abort', onStop, { once: true });
    this.movedListeners.add(onMoved);
    const head = setTimeout(() => cut({ kind: 'failed', why: `no answer within ${this.timeoutMs} ms`, retryAfter: null }), this.timeoutMs);
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (resume !== null) headers['last-event-id'] = String(resume);
      const res = await fetch(new URL(`/api/v1/watch?${query}`, ep.url), { headers, signal: ctl.signal });
      clearTimeout(head);
      if (res.status !== 200 || res.body === null) {
        await res.body?.cancel().catch(() => undefined);
        return { kind: 'failed', why: `HTTP ${res.status}`, retryAfter: res.headers.get('retry-after') };
      }
      this.answered(i);
      opened();
      await readSse(res.body, on, this.opts.watchIdleMs ?? 45_000, (idle) => cut({ kind: 'failed', why: idle.message, retryAfter: null }));
      return end ?? { kind: 'failed', why: 'the stream ended', retryAfter: null };
    } catch (err) {
      return end ?? { kind: 'failed', why: errorText(err), retryAfter: null };
    } finally {
      clearTimeout(head);
      this.movedListeners.delete(onMoved);
      signal.removeEventListener('abort', onStop);
    }
  }

  private async probeDue(): Promise<boolean> {
    for (let i = 0; i < this.active; i++) {
      if (this.now() < this.state[i]!.retryAt) continue;
      const ep = this.opts.endpoints[i]!;
      // One controller with its own timer (not AbortSignal.any over a timeout signal): the probe of a server that
      // answers nothing must end at its deadline, or no probe would ever run again.
      const ctl = new AbortController();
      const stop = (): void => ctl.abort();
      const deadline = setTimeout(stop, this.timeoutMs);
      this.stopProbes.signal.addEventListener('abort', stop, { once: true });
      try {
        const res = await fetch(new URL('/healthz', ep.url), { signal: ctl.signal });
        await res.body?.cancel().catch(() => undefined);
        if (!unusable(res.status)) {
          // Its failure count stays until a request there succeeds: a server that answers probes but not
          // requests backs off further each time instead of drawing the client back at the base rate.
          this.state[i]!.retryAt = 0;
          this.moveTo(i);
          return true;
        }
        this.failed(i, `probe: HTTP ${res.status}`, res.headers.get('retry-after'));
      } catch (err) {
        if (this.stopProbes.signal.aborted) return false;
        this.failed(i, `probe: ${errorText(err)}`, null);
      } finally {
        clearTimeout(deadline);
        this.stopProbes.signal.removeEventListener('abort', stop);
      }
    }
    return false;
  }

  /** A probe of the preferred endpoints when the first of them is due, while one is preferred over the active. */
  private scheduleProbe(): void {
    if (this.active === 0 || this.probeTimer !== null || this.probing !== null || this.stopProbes.signal.aborted) return;
    const due = Math.min(...this.state.slice(0, this.active).map((s) => s.retryAt));
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.probePreferred();
    }, Math.max(0, due - this.now()));
    this.probeTimer.unref();
  }

  /**
   * The order to try: the active endpoint unless it is backing off, the others not backing off in preference order,
   * then those backing off, soonest due first (tried only when nothing else answers).
   */
  private order(): number[] {
    const t = this.now();
    const ready = (i: number): boolean => t >= this.state[i]!.retryAt;
    const all = [...this.opts.endpoints.keys()];
    const waiting = all.filter((i) => !ready(i)).sort((x, y) => this.state[x]!.retryAt - this.state[y]!.retryAt);
    return [...(ready(this.active) ? [this.active] : []), ...all.filter((i) => i !== this.active && ready(i)), ...waiting];
  }

  private answered(i: number): void {
    this.state[i] = { failures: 0, retryAt: 0, why: '' };
    this.moveTo(i);
  }

  private moveTo(i: number): void {
    if (i === this.active) return;
    const from = this.active;
    this.active = i;
    const reason = i < from ? 'a preferred installation answers again' : (this.state[from]!.why || 'failover');
    this.opts.onMove?.(this.opts.endpoints[from]!, this.opts.endpoints[i]!, reason);
    for (const l of [...this.movedListeners]) l();
    this.scheduleProbe();
  }

  /** Back off endpoint `i`; returns the failure as text for an error message. */
  private failed(i: number, why: string, retryAfter: string | null): string {
    const s = this.state[i]!;
    s.failures++;
    s.why = why;
    const ra = retryAfter === null ? NaN : Number(retryAfter) * 1000;
    s.retryAt = this.now() + Math.max(backoffMs(s.failures, this.opts.probeBaseMs ?? 500, this.opts.probeCapMs ?? 30_000), Number.isFinite(ra) ? ra : 0);
    this.scheduleProbe();
    const ep = this.opts.endpoints[i]!;
    return `${ep.installation} (${ep.url}): ${why}`;
  }
}

/** Resolve after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
