/**
 * Least privilege in etcd (docs/security.md): which etcd user and role each kind of pvsync component runs as, and the
 * key permissions of that role. An uploader writes only its own IOC's keys, the API only channels and definitions
 * (and its archiver groups' switchover requests), an archiver agent only its group's election keys.
 */
import { ArchiverKeys } from '../election/keys.js';
import { PvsError } from '../errors.js';
import { Keyspace, escapeSegment } from '../keyspace.js';

/** A component that gets its own etcd user: one IOC's uploader, the API servers, or one archiver group's agents. */
export type Identity =
  | { readonly kind: 'ioc'; readonly iocId: string }
  | { readonly kind: 'api'; readonly archiverGroups: readonly string[] }
  | { readonly kind: 'archiver'; readonly group: string };

/** One etcd permission: `read`, `write` or `readwrite` on a key, or on every key starting with it. */
export interface KeyPermission {
  readonly type: 'read' | 'write' | 'readwrite';
  readonly key: string;
  readonly prefix: boolean;
}

/** An etcd user, its one role and what the role may touch. */
export interface RolePlan {
  /** The etcd user; also the CN of its client certificate (with --client-cert-auth the CN is the user). */
  readonly user: string;
  readonly role: string;
  readonly permissions: readonly KeyPermission[];
}

// etcd user and role names are free strings, but they end up in certificate subjects and file names.
const NAME = /^[A-Za-z0-9@._:-]{1,128}$/;

/** The user, role and permissions of `identity` under the keyspace `root`. */
export function rolePlan(identity: Identity, root: string): RolePlan {
  const keys = new Keyspace(root);
  switch (identity.kind) {
    case 'ioc': {
      checkName('IOC id', identity.iocId);
      return {
        user: identity.iocId,
        role: `pvsync-ioc-${identity.iocId}`,
        // Its info and records (read back to diff), and its liveness key (put with the lease, deleted on stop;
        // revoking a lease needs write permission on every key attached to it). Leases need no permission.
        permissions: [
          { type: 'readwrite', key: `${keys.iocsPrefix}${escapeSegment(identity.iocId)}/`, prefix: true },
          { type: 'readwrite', key: keys.alive(identity.iocId), prefix: false },
        ],
      };
    }
    case 'api': {
      const groups = [...new Set(identity.archiverGroups)].sort();
      for (const g of groups) checkName('archiver group', g);
      return {
        user: 'pvsync-api',
        role: 'pvsync-api',
        // The mirror reads (and watches) the whole root; writes go to channels and definitions only, plus the
        // switchover request key of each archiver group it serves (POST /api/v1/archiver/switchover).
        permissions: [
          { type: 'read', key: keys.root, prefix: true },
          { type: 'readwrite', key: keys.channelsPrefix, prefix: true },
          { type: 'readwrite', key: `${keys.root}defs/`, prefix: true },
          ...groups.map((g): KeyPermission => ({ type: 'readwrite', key: new ArchiverKeys(g, root).switchover, prefix: false })),
        ],
      };
    }
    case 'archiver': {
      checkName('archiver group', identity.group);
      return {
        user: `pvsync-archiver-${identity.group}`,
        role: `pvsync-archiver-${identity.group}`,
        // leader, active, nodes/<node>, switchover: the group's prefix, nothing else.
        permissions: [{ type: 'readwrite', key: new ArchiverKeys(identity.group, root).prefix, prefix: true }],
      };
    }
  }
}

/** Parse the identity named on the command line (`ioc NAME@host`, `api [groups]`, `archiver GROUP`). */
export function parseIdentity(kind: string, name: string | undefined, archiverGroups: readonly string[] = ['default']): Identity {
  switch (kind) {
    case 'ioc':
      if (name === undefined || !/^[^@]+@[^@]+$/.test(name)) {
        throw new PvsError('PVS_CONFIG', `an IOC is named IOCNAME@host (its iocId), got ${name ?? '(nothing)'}`);
      }
      return { kind: 'ioc', iocId: name };
    case 'api':
      return { kind: 'api', archiverGroups };
    case 'archiver':
      return { kind: 'archiver', group: name ?? 'default' };
    default:
      throw new PvsError('PVS_CONFIG', `--kind must be ioc, api or archiver, got ${kind}`);
  }
}

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    throw new PvsError('PVS_CONFIG', `${what} ${JSON.stringify(name)}: letters, digits and @ . _ : - only (at most 128)`);
  }
}
