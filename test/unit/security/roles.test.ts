// Least privilege: the etcd user, role and permissions of each kind of component (docs/security.md, "Roles").
import { describe, expect, it } from 'vitest';
import { parseIdentity, rolePlan } from '../../../src/core/security/roles.js';

describe('etcd roles of pvsync components', () => {
  it('lets an IOC write its own keys and liveness key only (prefix ends at its "/")', () => {
    expect(rolePlan({ kind: 'ioc', iocId: 'IOCA@h1' }, '/pvsync/v1/')).toEqual({
      user: 'IOCA@h1',
      role: 'pvsync-ioc-IOCA@h1',
      permissions: [
        { type: 'readwrite', key: '/pvsync/v1/iocs/IOCA@h1/', prefix: true },
        { type: 'readwrite', key: '/pvsync/v1/alive/IOCA@h1', prefix: false },
      ],
    });
  });

  it('lets the API read the root and write channels, definitions and its groups\' switchover requests', () => {
    expect(rolePlan({ kind: 'api', archiverGroups: ['linac', 'default', 'linac'] }, '/r/')).toEqual({
      user: 'pvsync-api',
      role: 'pvsync-api',
      permissions: [
        { type: 'read', key: '/r/', prefix: true },
        { type: 'readwrite', key: '/r/channels/', prefix: true },
        { type: 'readwrite', key: '/r/defs/', prefix: true },
        { type: 'readwrite', key: '/r/archiver/default/switchover', prefix: false },
        { type: 'readwrite', key: '/r/archiver/linac/switchover', prefix: false },
      ],
    });
  });

  it('lets an archiver group write its election keys only', () => {
    expect(rolePlan({ kind: 'archiver', group: 'linac' }, '/pvsync/v1/')).toEqual({
      user: 'pvsync-archiver-linac',
      role: 'pvsync-archiver-linac',
      permissions: [{ type: 'readwrite', key: '/pvsync/v1/archiver/linac/', prefix: true }],
    });
  });

  it.each([
    ['ioc', 'no-host'], ['ioc', undefined], ['ioc', 'a/b@h'], ['ioc', 'a b@h'], ['archiver', 'x/y'], ['archiver', 'g+1'], ['user', 'x'],
  ])('refuses %s %s with PVS_CONFIG', (kind, name) => {
    expect(() => rolePlan(parseIdentity(kind, name), '/pvsync/v1/')).toThrow(expect.objectContaining({ code: 'PVS_CONFIG' }) as Error);
  });

  it('parses the command line\'s kinds', () => {
    expect(parseIdentity('ioc', 'X@h')).toEqual({ kind: 'ioc', iocId: 'X@h' });
    expect(parseIdentity('api', undefined, ['g'])).toEqual({ kind: 'api', archiverGroups: ['g'] });
    expect(parseIdentity('archiver', undefined)).toEqual({ kind: 'archiver', group: 'default' });
  });
});
