/**
 * Health and status of one etcd member over its HTTP client port (/health and the v3 gRPC gateway), each with a
 * short per-request timeout so a dead or starting member costs at most that long. Never throws.
 */
import { z } from 'zod';

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
export async function probeHealth(clientUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return false;
    const body = HealthSchema.safeParse(await res.json());
    return body.success && body.data.health === 'true';
  } catch {
    return false;
  }
}

/** The member's own status (POST /v3/maintenance/status), or undefined when it does not answer in time. */
export async function probeStatus(clientUrl: string, timeoutMs = 1000): Promise<MemberStatus | undefined> {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return undefined;
    const parsed = StatusSchema.safeParse(await res.json());
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
