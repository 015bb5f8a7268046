/**
 * Values stored under the archiver election keys. They are read back from etcd, a trust boundary, so each is a zod
 * schema. Times are epoch milliseconds; fencing tokens are decimal strings (etcd revisions are int64).
 */
import { z } from 'zod';

/** A fencing token: the election key's create revision, as a decimal string. */
export const TokenSchema = z.string().regex(/^[1-9][0-9]*$/);

/** The URLs of an archiver node that clients use (the appliance's mgmt, retrieval and data retrieval bases). */
export const EndpointsSchema = z.object({
  mgmt: z.url().optional(),
  retrieval: z.url().optional(),
  dataRetrieval: z.url().optional(),
});
/** The URLs of an archiver node. */
export type Endpoints = z.infer<typeof EndpointsSchema>;

// scheme://user:password@ — the password ends at the first `@`, blank or quote.
const URL_PASSWORD = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/:@'"]*):[^\s@'"]*@/g;

/**
 * A start hook as a node publishes it among its resources (anyone may read the group's status): the password of
 * every URL in it (`mariadb://user:secret@host/`) replaced by `***`.
 */
export function publishedCommand(command: string): string {
  return command.replace(URL_PASSWORD, '$1:***@');
}

/** Value of `…/leader`: who holds the election key (the token is the key's create revision, not stored here). */
export const LeaderValueSchema = z.object({ node: z.string().min(1), since: z.number() });
/** Value of `…/leader`. */
export type LeaderValue = z.infer<typeof LeaderValueSchema>;

/** Value of `…/active`: the node serving clients, its fencing token and its endpoints. */
export const ActiveValueSchema = z.object({
  node: z.string().min(1),
  token: TokenSchema,
  since: z.number(),
  endpoints: EndpointsSchema,
});
/** Value of `…/active`. */
export type ActiveValue = z.infer<typeof ActiveValueSchema>;

/** The roles an agent goes through (see roles.ts for the transition table). */
export const RoleSchema = z.enum(['starting', 'standby', 'campaigning', 'promoting', 'active', 'demoting', 'stopped']);
/** One role of an agent. */
export type Role = z.infer<typeof RoleSchema>;

/** The latest result of one health check. */
export const CheckStatusSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
/** The latest result of one health check. */
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

/** Value of `…/nodes/<node>`: what `pvsync archiver status` shows for one agent. */
export const NodeStatusSchema = z.object({
  node: z.string().min(1),
  role: RoleSchema,
  healthy: z.boolean(),
  checks: z.array(CheckStatusSchema),
  since: z.number(),
  token: TokenSchema.nullable(),
  updatedAt: z.number(),
  endpoints: EndpointsSchema,
  pid: z.number().int().optional(),
  host: z.string().optional(),
  /** The start hooks of the node, in order: what it starts when active (shown as its resources by the console). */
  resources: z.array(z.string()).optional(),
});
/** Value of `…/nodes/<node>`. */
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

/** Value of `…/switchover`: a request for a graceful handover, optionally to one node. */
export const SwitchoverRequestSchema = z.object({
  id: z.string().min(1),
  to: z.string().min(1).optional(),
  requestedAt: z.number(),
});
/** Value of `…/switchover`. */
export type SwitchoverRequest = z.infer<typeof SwitchoverRequestSchema>;

/** Everything known about one archiver group at one revision (what status readers and routes see). */
export interface GroupStatus {
  readonly group: string;
  readonly leader: (LeaderValue & { readonly token: string }) | null;
  readonly active: ActiveValue | null;
  readonly nodes: readonly NodeStatus[];
  readonly switchover: SwitchoverRequest | null;
  /** The revision that wrote the switchover request (requests apply to leaders elected before it). */
  readonly switchoverRevision: string | null;
  readonly revision: string;
}
