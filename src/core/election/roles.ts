/**
 * The role state table of an archiver agent. Services run only in `promoting` (start hooks under way), `active`
 * and `demoting` (stop hooks under way); every other role has them stopped. An illegal transition is a bug.
 */
import { PvsError } from '../errors.js';
import type { Role } from './records.js';

/** Allowed next roles of each role. */
export const TRANSITIONS: Readonly<Record<Role, readonly Role[]>> = {
  starting: ['standby', 'stopped'],
  standby: ['campaigning', 'stopped'],
  campaigning: ['promoting', 'standby', 'stopped'],
  promoting: ['active', 'demoting'],
  active: ['demoting'],
  demoting: ['standby', 'stopped'],
  stopped: [],
};

/** The roles in which the node holds (or may hold) the election key and its services may be running. */
export const LEADING_ROLES: ReadonlySet<Role> = new Set<Role>(['promoting', 'active']);

/** Check a transition; throws PVS_PROTOCOL_LOCAL when the table does not allow it. */
export function transition(from: Role, to: Role): Role {
  if (!TRANSITIONS[from].includes(to)) {
    throw new PvsError('PVS_PROTOCOL_LOCAL', `archiver agent: illegal role transition ${from} -> ${to}`);
  }
  return to;
}
