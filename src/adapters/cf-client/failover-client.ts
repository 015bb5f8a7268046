/**
 * A ChannelFinder client over several installations (docs/operations.md, "Several installations"): it uses the
 * first endpoint (the nearest installation) and, on a connection failure, a timeout, a 5xx or a 429, moves to the
 * next installation holding the data, at the start or in the middle of a session (a paged scroll, a watch stream).
 * It probes the installations it left with back-off (core/backoff.ts, honouring Retry-After) and moves back to the
 * preferred one when it answers. A scroll that moves realigns on channel names, so every channel comes exactly
 * once; a watch stream that moves cannot resume (revisions are per installation) and gets a `reset`.
 */
import { backoffMs } from '../../core/backoff.js';
import { compareNames } from '../../core/directory/name-order.js';
import { PvsError } from '../../core/errors.js';

/** One installation's API. */
export interface ClientEndpoint {
  readonly installation: string;
  readonly url: string;
}

/** Options of the client. */
export interface FailoverClientOptions {
  /** In preference order: the nearest installation first, then the others holding the data type. */
  readonly endpoints: readonly ClientEndpoint[];
  /** Deadline of one request (default 5 000 ms). */
  readonly timeoutMs?: number;
  /** Back-off of the probes of an installation that failed (defaults 500 ms doubling to 30 s). */
  readonly probeBaseMs?: number;
  readonly probeCapMs?: number;
  readonly now?: () => number;
  /** Told of every move between installations. */
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
  nextProbe: number;
}

/** Failover and fallback over several installations' APIs. */
export class FailoverClient {
  private active = 0;
  private readonly state: State[];
  private readonly now: () => number;

  constructor(private readonly opts: FailoverClientOptions) {
    if (opts.endpoints.length === 0) throw new PvsError('PVS_CONFIG', 'the failover client needs at least one endpoint');
    this.state = opts.endpoints.map(() => ({ failures: 0, nextProbe: 0 }));
    this.now = opts.now ?? Date.now;
  }

  /** The installation in use. */
  get current(): ClientEndpoint {
    return this.opts.endpoints[this.active]!;
  }

  /** GET `path` (with query) from the best installation that answers; PVS_UNAVAILABLE when none does. */
  async get(path: string): Promise<ClientReply> {
    const failures: string[] = [];
    for (const i of this.candidates()) {
      const ep = this.opts.endpoints[i]!;
      let res: Response;
      try {
        res = await fetch(new URL(path, ep.url), { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
      } catch (err) {
        this.failed(i, `${err instanceof Error ? err.message : String(err)}`, undefined, failures);
        continue;
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel().catch(() => undefined);
        this.failed(i, `HTTP ${res.status}`, res.headers.get('retry-after'), failures);
        continue;
      }
      const text = await res.text();
      this.answered(i);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: handed over as text
      }
      return { endpoint: ep, status: res.status, body };
    }
    throw new PvsError('PVS_UNAVAILABLE', `no installation answered ${path}: ${failures.join('; ')}`, { retryable: true });
  }

  /**
   * Every channel matching `query` (ChannelFinder query string without ~size/~from), page by page in name order.
   * After a move to another installation the scroll steps back until it overlaps what it already returned and skips
   * names up to the last one returned, so each channel comes exactly once.
   */
  async *scroll(query: string, pageSize = 1000): AsyncGenerator<ClientChannel> {
    let from = 0;
    let last: string | null = null;
    let at: string | null = null;
    const page = async (offset: number): Promise<{ ep: ClientEndpoint; list: ClientChannel[] }> => {
      const sep = query === '' ? '' : '&';
      const r = await this.get(`/ChannelFinder/resources/channels?${query}${sep}~size=${pageSize}&~from=${offset}`);
      if (r.status !== 200 || !Array.isArray(r.body)) throw new PvsError('PVS_QUERY', `query refused by ${r.endpoint.installation}: HTTP ${r.status}`);
      return { ep: r.endpoint, list: r.body as ClientChannel[] };
    };
    for (;;) {
      let { ep, list } = await page(from);
      if (at !== null && ep.installation !== at && last !== null) {
        // Offsets differ between installations: step back until this page starts at or before the last name.
        let back = from;
        while (back > 0 && (list[0] === undefined || compareNames(list[0].name, last) > 0)) {
          back = Math.max(0, back - pageSize);
          ({ ep, list } = await page(back));
        }
        from = back;
      }
      at = ep.installation;
      for (const ch of list) {
        if (last !== null && compareNames(ch.name, last) <= 0) continue;
        last = ch.name;
        yield ch;
      }
      from += list.length;
      if (list.length < pageSize) return;
    }
  }

  /**
   * Follow `GET /api/v1/watch?query` until `signal` aborts. A lost stream resumes at the same installation with
   * Last-Event-ID (exactly); when it must move (failure, or the preferred installation answers again) the handler
   * gets a `reset` naming the move before the new stream's `sync`, never a silent gap.
   */
  async watch(query: string, handler: (ev: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    let lastId: number | null = null;
    let at: string | null = null;
    while (!signal.aborted) {
      const i = this.candidates()[0]!;
      const ep = this.opts.endpoints[i]!;
      if (at !== null && ep.installation !== at) {
        handler({ type: 'reset', installation: ep.installation, id: 0, data: { reason: `moved from installation ${at} to ${ep.installation}: re-list` } });
        lastId = null;
      }
      at = ep.installation;
      const inner = new AbortController();
      const stop = (): void => inner.abort();
      signal.addEventListener('abort', stop, { once: true });
      // While on a fallback, probe the preferred one and move back when it answers.
      const probe = i === 0 ? null : setInterval(() => void this.probePreferred().then((ok) => { if (ok) inner.abort(); }), this.opts.probeBaseMs ?? 500);
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (lastId !== null) headers['last-event-id'] = String(lastId);
        const res = await fetch(new URL(`/api/v1/watch?${query}`, ep.url), { headers, signal: inner.signal });
        if (res.status !== 200 || res.body === null) {
          this.failed(i, `HTTP ${res.status}`, res.headers.get('retry-after'), []);
          await res.body?.cancel().catch(() => undefined);
          continue;
        }
        this.answered(i);
        await readSse(res.body, (type, id, data) => {
          lastId = id;
          handler({ type, installation: ep.installation, id, data });
        }, this.opts.timeoutMs === undefined ? 45_000 : Math.max(this.opts.timeoutMs, 20_000), inner);
        if (!signal.aborted && !inner.signal.aborted) this.failed(i, 'stream ended', null, []);
      } catch (err) {
        if (!signal.aborted && !inner.signal.aborted) this.failed(i, err instanceof Error ? err.message : String(err), null, []);
      } finally {
        if (probe !== null) clearInterval(probe);
        signal.removeEventListener('abort', stop);
      }
    }
  }

  /** Try the preferred installation now if its probe is due; true (and it becomes active) when it answers. */
  async probePreferred(): Promise<boolean> {
    if (this.active === 0 || this.now() < this.state[0]!.nextProbe) return false;
    try {
      const res = await fetch(new URL('/healthz', this.opts.endpoints[0]!.url), { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 500 && res.status !== 429) {
        this.answered(0);
        return true;
      }
      this.failed(0, `HTTP ${res.status}`, res.headers.get('retry-after'), []);
    } catch (err) {
      this.failed(0, err instanceof Error ? err.message : String(err), null, []);
    }
    return false;
  }

  /** The order to try: installations preferred over the active one whose probe is due, the active one, the rest. */
  private candidates(): number[] {
    const n = this.opts.endpoints.length;
    const t = this.now();
    const due = [...Array(this.active).keys()].filter((i) => t >= this.state[i]!.nextProbe);
    const rest = [...Array(n).keys()].filter((i) => i > this.active);
    const out = [...due, this.active, ...rest];
    // When every installation is backing off, try them all anyway (in preference order) rather than none.
    return out.length > 0 ? out : [...Array(n).keys()];
  }

  private answered(i: number): void {
    this.state[i] = { failures: 0, nextProbe: 0 };
    if (i !== this.active) {
      const from = this.current;
      this.active = i;
      this.opts.onMove?.(from, this.current, i === 0 ? 'preferred installation answers again' : 'failover');
    }
  }

  private failed(i: number, why: string, retryAfter: string | null | undefined, failures: string[]): void {
    const s = this.state[i]!;
    s.failures++;
    const ra = retryAfter === null || retryAfter === undefined ? NaN : Number(retryAfter) * 1000;
    const delay = Math.max(backoffMs(s.failures, this.opts.probeBaseMs ?? 500, this.opts.probeCapMs ?? 30_000), Number.isFinite(ra) ? ra : 0);
    s.nextProbe = this.now() + delay;
    failures.push(`${this.opts.endpoints[i]!.installation}: ${why}`);
    if (i === this.active && this.opts.endpoints.length > 1) {
      const next = (i + 1) % this.opts.endpoints.length;
      const from = this.current;
      this.active = next;
      this.opts.onMove?.(from, this.current, why);
    }
  }
}

/** Read an SSE body, calling `on` per event; aborts `ctl` when nothing (not even a heartbeat) came for `idleMs`. */
async function readSse(body: ReadableStream<Uint8Array>, on: (type: string, id: number, data: unknown) => void, idleMs: number, ctl: AbortController): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  let idle = setTimeout(() => ctl.abort(), idleMs);
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(), idleMs);
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let type = 'message';
        let id = 0;
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        let parsed: unknown = data;
        try {
          parsed = JSON.parse(data);
        } catch {
          // keep the text
        }
        on(type, id, parsed);
      }
    }
  } finally {
    clearTimeout(idle);
  }
}
