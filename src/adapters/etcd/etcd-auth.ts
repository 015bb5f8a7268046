/**
 * etcd's users, roles and permissions (docs/security.md) through the etcd3 client's Auth API: create a component's
 * user and role with the permissions of its RolePlan, and turn authentication on (root user and role first, as etcd
 * requires). Every function is idempotent: running it again changes nothing that is already right.
 */
import { EtcdRoleExistsError, EtcdUserExistsError, Range, type Etcd3, type IPermissionRequest } from 'etcd3';
import type { KeyPermission, RolePlan } from '../../core/security/roles.js';
import { wrapEtcdError } from './errors.js';

const PERMISSION = { read: 'Read', write: 'Write', readwrite: 'Readwrite' } as const;

/** The etcd3 grant request of one permission. */
export function permissionRequest(p: KeyPermission): IPermissionRequest {
  return p.prefix ? { permission: PERMISSION[p.type], range: Range.prefix(p.key) } : { permission: PERMISSION[p.type], key: p.key };
}

/**
 * Create (or bring up to date) the plan's role with exactly its permissions and its user holding that role. Without
 * `password` the user has none (`--no-password`): it can only log in with a client certificate whose CN is its name.
 */
export async function applyRolePlan(client: Etcd3, plan: RolePlan, password?: string): Promise<void> {
  try {
    const role = client.role(plan.role);
    await role.create().catch((err: unknown) => {
      if (!(err instanceof EtcdRoleExistsError)) throw err;
    });
    // Drop permissions the plan no longer has (a re-run after a root change), then grant the plan's.
    const wanted = new Set(plan.permissions.map((p) => `${p.key}\0${p.prefix}`));
    for (const have of await role.permissions()) {
      const key = have.range.start.toString();
      const prefix = !have.range.end.equals(Buffer.from([0])) && !have.range.end.equals(Buffer.alloc(0));
      if (!wanted.has(`${key}\0${prefix}`)) await role.revoke({ permission: have.permission, range: have.range });
    }
    if (plan.permissions.length > 0) await role.grant(plan.permissions.map(permissionRequest));
    await ensureUser(client, plan.user, password);
    await client.user(plan.user).addRole(plan.role);
  } catch (err) {
    throw wrapEtcdError(err, `set up etcd user ${plan.user}`);
  }
}

/**
 * Turn authentication on: user `root` (with `rootPassword`, or none: certificate CN "root" only) holding role `root`,
 * then `auth enable` (etcd 3.4 ignores it when already on; then this call needs root's identity).
 */
export async function enableAuth(client: Etcd3, rootPassword?: string): Promise<void> {
  try {
    await ensureUser(client, 'root', rootPassword);
    await client.role('root').create().catch((err: unknown) => {
      if (!(err instanceof EtcdRoleExistsError)) throw err;
    });
    await client.user('root').addRole('root');
    await client.auth.authEnable();
  } catch (err) {
    throw wrapEtcdError(err, 'enable etcd authentication');
  }
}

async function ensureUser(client: Etcd3, name: string, password: string | undefined): Promise<void> {
  try {
    await client.auth.userAdd(password === undefined ? { name, options: { no_password: true } } : { name, password });
  } catch (err) {
    if (!(err instanceof EtcdUserExistsError)) throw err;
    if (password !== undefined) await client.user(name).setPassword(password);
  }
}
