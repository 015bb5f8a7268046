/**
 * Health and status of one etcd member over its HTTP client port (/health and the v3 gRPC gateway), each with a
 * short per-request timeout so a dead or starting member costs at most that long. Never throws. A TLS cluster is
 * probed over https with a client certificate (one without a CN: etcd's gateway refuses a CN it would ignore).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';

/** PEM material of a probe against a TLS cluster. */
export interface ProbeTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

// The gateway prints 64-bit integers as decimal strings.
const StatusSchema = z.object({
  header: z.object({ member_id: z.string(), raft_term: z.string().optional() }),
  leader: z.string().optional(),
  dbSize: z.string().optional(),
  raftTerm: z.string().optional(),
  version: z.string().optional(),
});

const HealthSchema = z.object({ health: z.string() });

/** What a member says about itself: its id, the leader it follows ("0" when none), db size and raft term. */
export interface MemberStatus {
  readonly memberId: string;
  readonly leaderId: string;
  readonly isLeader: boolean;
  readonly dbSizeBytes: number;
  readonly raftTerm: number;
  readonly version: string;
}

/** True when GET /health answers {"health":"true"} (the member has a leader and serves a quorum read). */
export async function probeHealth(clientUrl: string, timeoutMs = 1000, tls?: ProbeTls): Promise<boolean> {
  try {
    const res = await getJson(`${clientUrl}/health`, 'GET', undefined, timeoutMs, tls);
    if (res === undefined) return false;
    const body = HealthSchema.safeParse(res);
    return body.success && body.data.health === 'true';
  } catch {
    return false;
  }
}

/** The member's own status (POST /v3/maintenance/status), or undefined when it does not answer in time. */
export async function probeStatus(clientUrl: string, timeoutMs = 1000, tls?: ProbeTls): Promise<MemberStatus | undefined> {
  try {
    const res = await getJson(`${clientUrl}/v3/maintenance/status`, 'POST', '{}', timeoutMs, tls);
    if (res === undefined) return undefined;
    const parsed = StatusSchema.safeParse(res);
    if (!parsed.success) return undefined;
    const s = parsed.data;
    const leaderId = s.leader ?? '0';
    return {
      memberId: s.header.member_id,
      leaderId,
      isLeader: leaderId !== '0' && leaderId === s.header.member_id,
      dbSizeBytes: Number(s.dbSize ?? '0'),
      raftTerm: Number(s.raftTerm ?? s.header.raft_term ?? '0'),
      version: s.version ?? '',
    };
  } catch {
    return undefined;
  }
}

/** The JSON body of a 2xx answer, undefined for any other status; rejects on network errors and after the timeout. */
function getJson(url: string, method: 'GET' | 'POST', body: string | undefined, timeoutMs: number, tls?: ProbeTls): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = {
      method, timeout: timeoutMs, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(u.protocol === 'https:' && tls !== undefined ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        if (!ok) return resolve(undefined);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    // A dead member answers nothing: give up after the timeout, whatever phase the request is in.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
