/**
 * vitest globalSetup of the `integration` project: one real 3-member etcd cluster for the whole run, on free ports
 * below 32768 with data in a temp dir, provided to tests as `etcd` (see test/support/cluster.ts). Torn down at the
 * end, also when setup fails halfway. One real MariaDB server likewise, provided as `mariadb` (test/support/mariadb.ts).
 */
import type { TestProject } from 'vitest/node';
import { startTestCluster } from './support/start-cluster.js';
import type {} from './support/cluster.js';
import type {} from './support/mariadb.js';
import { startTestMariadb } from './support/start-mariadb.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const teardowns: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    for (const t of teardowns.reverse()) await t();
  };
  try {
    const etcd = await startTestCluster('it');
    teardowns.push(etcd.stop);
    project.provide('etcd', etcd.info);
    const mariadb = await startTestMariadb('it');
    teardowns.push(mariadb.stop);
    project.provide('mariadb', mariadb.info);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
