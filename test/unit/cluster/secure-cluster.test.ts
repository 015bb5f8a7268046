// The secured local cluster's flags and the shell lines of `pvsync cluster env` (docs/security.md).
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { memberFlags, type ClusterSpec } from '../../../src/adapters/local-etcd/cluster-spec.js';
import { LocalCluster } from '../../../src/adapters/local-etcd/local-cluster.js';
import { envLines } from '../../../src/apps/commands/cluster.js';
import { loadClusterSpec } from '../../../src/apps/config-files.js';

const YML = fileURLToPath(new URL('../../../etcd-cluster.yml', import.meta.url));

describe('secured local cluster', () => {
  let spec: ClusterSpec;
  beforeAll(async () => { spec = await loadClusterSpec(YML); });

  it('runs https client and peer URLs with client certificates required, and the token TTL asked for', () => {
    const m = spec.members[1]!;
    const flags = memberFlags(spec, m, '/d', 'new', { certFile: '/t/m.crt', keyFile: '/t/m.key', caFile: '/t/ca.crt', authTokenTtlS: 2 });
    expect(flags).toEqual(expect.arrayContaining([
      '--listen-client-urls=https://127.0.0.1:22379', '--advertise-client-urls=https://127.0.0.1:22379',
      '--listen-peer-urls=https://127.0.0.1:22380', '--initial-advertise-peer-urls=https://127.0.0.1:22380',
      '--initial-cluster=etcd-1=https://127.0.0.1:2380,etcd-2=https://127.0.0.1:22380,etcd-3=https://127.0.0.1:32380',
      '--cert-file=/t/m.crt', '--key-file=/t/m.key', '--trusted-ca-file=/t/ca.crt', '--client-cert-auth=true',
      '--peer-cert-file=/t/m.crt', '--peer-key-file=/t/m.key', '--peer-trusted-ca-file=/t/ca.crt',
      '--peer-client-cert-auth=true', '--auth-token-ttl=2',
    ]));
    expect(memberFlags(spec, m, '/d', 'new').filter((f) => /https|cert|auth-token/.test(f))).toEqual([]);
  });

  it('prints the variables a shell needs: endpoints, and for a secured cluster CA and root certificate', () => {
    const plain = new LocalCluster(spec, '/s', { etcdBin: '/usr/bin/etcd' });
    expect(envLines(plain)).toBe([
      'export PVSYNC_ENDPOINTS=http://127.0.0.1:2379,http://127.0.0.1:22379,http://127.0.0.1:32379',
      'export PVSYNC_STATE_DIR=/s', 'export ETCDCTL_API=3',
      'export ETCDCTL_ENDPOINTS=http://127.0.0.1:2379,http://127.0.0.1:22379,http://127.0.0.1:32379', '',
    ].join('\n'));
    const secure = new LocalCluster(spec, '/s', { etcdBin: '/usr/bin/etcd', security: { dir: '/s/tls' } });
    const env = envLines(secure);
    expect(env).toContain('export PVSYNC_ENDPOINTS=https://127.0.0.1:2379,https://127.0.0.1:22379,https://127.0.0.1:32379\n');
    expect(env).toContain('export PVSYNC_ETCD_CA=/s/tls/ca.crt\n');
    expect(env).toContain('export PVSYNC_ETCD_CERT=/s/tls/root.crt\nexport PVSYNC_ETCD_KEY=/s/tls/root.key\n');
    expect(env).toContain('export ETCDCTL_CACERT=/s/tls/ca.crt\n');
  });
});
