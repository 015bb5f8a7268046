// The console's only way to the server: the same JSON API every other client uses (docs/api.md). Credentials (HTTP
// Basic, the API's users) live in sessionStorage for this tab only and are sent only where a route needs them.

export interface CfProperty { name: string; owner: string; value: string | null }
export interface CfTag { name: string; owner: string }
export interface CfChannel { name: string; owner: string; properties: CfProperty[]; tags: CfTag[] }

export interface IocSummary {
  iocId: string; iocName: string; hostName: string; iocIP: string | null; status: 'Active' | 'Inactive';
  state: string | null; records: number; goneRecords: number; updatedAt: string | null; writer: string | null;
  errors: number; duplicateName: boolean;
}
export interface IocError { code: string; message: string; file: string; line?: number; col?: number; unreadable?: string }
export interface IocRecordRow { name: string; type: string; desc: string; aliases: string[]; file: string | null; line: number | null; gone: boolean }
export interface IocDetail extends IocSummary {
  environment: Record<string, string>; errorList: IocError[]; recordPage: IocRecordRow[]; nextAfter: string | null;
}

export interface CheckStatus { name: string; ok: boolean; detail: string }
export interface Endpoints { mgmt?: string; retrieval?: string; dataRetrieval?: string }
export interface NodeStatus {
  node: string; role: string; healthy: boolean; checks: CheckStatus[]; since: number; token: string | null;
  updatedAt: number; endpoints: Endpoints; pid?: number; host?: string; resources?: string[];
}
export interface GroupStatus {
  group: string;
  leader: { node: string; token: string; since: number } | null;
  active: { node: string; token: string; since: number; endpoints: Endpoints } | null;
  nodes: NodeStatus[];
  switchover: { id: string; to?: string; requestedAt: number } | null;
  revision: string;
}
export interface TimelineEntry {
  node: string; token: string; from: string | null; cause: 'start' | 'takeover' | 'switchover';
  startedAt: number; activeAt: number; durationMs: number; sinceLeaseExpiry: boolean; endedAt: number | null; revision: number;
}
export interface GroupTimeline { group: string; fromRevision: number; revision: number; entries: TimelineEntry[] }
export interface Conflict { name: string; iocIds: string[] }

export type NextAction = 'none' | 'archive' | 'pause' | 'resume' | 'change' | 'wait' | 'refused';
export interface ArchivedRow {
  name: string; archive: string; spec: string | null; problem: string | null; iocStatus: 'Active' | 'Inactive'; iocId: string | null;
  appliance: { status: string; method?: 'MONITOR' | 'SCAN'; period?: number; lastEvent?: string; connected?: boolean } | null;
  next: NextAction | null;
}
export interface ArchivedPage {
  group: string; revision: number; selector: { archiver: string[]; untargeted: boolean };
  active: { node: string; token: string; since: number; mgmt: string | null } | null;
  appliance: { mgmt: string | null; reachable: boolean; startupState: string | null; identity: string | null; error: string | null };
  total: number; pvs: ArchivedRow[]; nextAfter: string | null;
}

export type ReplicaState = 'current' | 'stale' | 'unproven' | 'elsewhere';
export interface ReplicaReport { installation: string; lagSeconds: number | null; revision: number | null; provenAt: string | null; state: ReplicaState }
export interface InstallationsReport {
  installation: string; staleAfterSeconds: number;
  installations: { name: string; api: string[]; networks: string[] }[];
  data: { type: string; primary: string; replicas: ReplicaReport[] }[];
}
export interface User { name: string; roles: string[]; groups: string[] }

/** An answer that was not 2xx: the API's error message and status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const AUTH_KEY = 'pvsync.auth';

export function savedAuth(): string | null {
  return sessionStorage.getItem(AUTH_KEY);
}

export function saveAuth(header: string | null): void {
  if (header === null) sessionStorage.removeItem(AUTH_KEY);
  else sessionStorage.setItem(AUTH_KEY, header);
}

export function basicHeader(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

async function request<T>(method: string, path: string, opts: { auth?: string | null; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.auth != null) headers['authorization'] = opts.auth;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  // credentials 'omit': the browser never adds credentials of its own, and never prompts for them on a 401.
  const res = await fetch(path, {
    method, headers, credentials: 'omit', ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const b = JSON.parse(text) as { message?: string };
      if (typeof b.message === 'string') message = b.message;
    } catch { /* not JSON */ }
    throw new ApiError(res.status, message);
  }
  return JSON.parse(text) as T;
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => request<T>('GET', path, signal === undefined ? {} : { signal });

/** The user of `auth`, or an ApiError (401 for wrong credentials). */
export const whoami = (auth: string): Promise<User> => request<User>('GET', '/api/v1/whoami', { auth });

export const switchover = (auth: string, group: string, to: string): Promise<{ from: string; to: string; elapsedMs: number }> =>
  request('POST', '/api/v1/archiver/switchover', { auth, body: { group, to, timeoutMs: 10_000 } });

/** `?a=b&…` of a ChannelFinder query typed by a person: `SR01:*` alone means `~name=SR01:*`. */
export function queryString(text: string): string {
  const t = text.trim();
  if (t === '') return '~name=*';
  if (!t.includes('=')) return `~name=${encodeURIComponent(t)}`;
  return t.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    const k = i < 0 ? p : p.slice(0, i);
    const v = i < 0 ? '' : p.slice(i + 1);
    return `${encodeURIComponent(k.trim())}=${encodeURIComponent(v.trim())}`;
  }).join('&');
}

export function prop(c: CfChannel, name: string): string {
  return c.properties.find((p) => p.name === name)?.value ?? '';
}

export function fmtTime(ms: number | string | null): string {
  if (ms === null || ms === '') return '';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtAgo(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
