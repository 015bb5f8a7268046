/**
 * ChannelFinder authorization, as upstream: roles ADMIN ⊃ CHANNEL ⊃ PROPERTY ⊃ TAG, and ownership (the user is the
 * owner, or belongs to the owner group, or is an admin). Every refusal is a 401 (PVS_AUTH), never a 403.
 */
import { z } from 'zod';
import { PvsError } from '../errors.js';

/** The roles, strongest first. */
export const ROLES = ['ADMIN', 'CHANNEL', 'PROPERTY', 'TAG'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated user: its roles and groups (group names compared case-insensitively, as upstream). */
export interface Principal {
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
  /** Upper-cased group names. */
  readonly groups: ReadonlySet<string>;
}

/** Make a principal from names as written in an auth file. */
export function principal(name: string, roles: readonly Role[], groups: readonly string[]): Principal {
  return { name, roles: new Set(roles), groups: new Set(groups.map((g) => g.trim().toUpperCase())) };
}

const RANK: Record<Role, number> = { ADMIN: 0, CHANNEL: 1, PROPERTY: 2, TAG: 3 };

/** True when the principal holds `needed` or a stronger role. */
export function hasRole(p: Principal, needed: Role): boolean {
  for (const r of p.roles) if (RANK[r] <= RANK[needed]) return true;
  return false;
}

/** True when the principal may act on something owned by `owner`: admin, the owner, or in the owner group. */
export function owns(p: Principal, owner: string): boolean {
  return p.roles.has('ADMIN') || p.name === owner || p.groups.has(owner.trim().toUpperCase());
}

/** Throw 401 unless `p` is authenticated and holds `needed`; returns the principal. */
export function requireRole(p: Principal | null, needed: Role, what: string): Principal {
  if (p === null) throw new PvsError('PVS_AUTH', `authentication required to ${what}`);
  if (!hasRole(p, needed)) throw new PvsError('PVS_AUTH', `user ${p.name} lacks the ${needed} role needed to ${what}`);
  return p;
}

/** Throw 401 unless `p` may act on something owned by `owner`. */
export function requireOwner(p: Principal, owner: string, what: string): void {
  if (!owns(p, owner)) throw new PvsError('PVS_AUTH', `user ${p.name} is not authorized on ${what} (owner ${owner})`);
}

/** One user of an auth file: a scrypt password hash (never a plain password), roles and groups. */
export const AuthUserSchema = z.object({
  password: z.string().regex(/^scrypt\$/, 'must be a hash made by `pvsync auth hash-password` (scrypt$…)'),
  roles: z.array(z.enum(ROLES)).default([]),
  groups: z.array(z.string().min(1)).default([]),
}).strict();

/** The auth file (`--auth-file`, YAML or JSON): `users: {NAME: {password, roles, groups}}`. */
export const AuthFileSchema = z.object({
  users: z.record(z.string().min(1), AuthUserSchema),
}).strict();
export type AuthFile = z.infer<typeof AuthFileSchema>;
