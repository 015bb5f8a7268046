/**
 * vitest globalSetup of the `integration` project: one real 3-member etcd cluster for the whole run, on free ports
 * below 32768 with data in a temp dir, provided to tests as `etcd` (see test/support/cluster.ts). Torn down at the
 * end, also when setup fails halfway. Further services (MariaDB) start here the same way and add their teardown.
 */
import type { TestProject } from 'vitest/node';
import { startTestCluster } from './support/start-cluster.js';
import type {} from './support/cluster.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const teardowns: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    for (const t of teardowns.reverse()) await t();
  };
  try {
    const etcd = await startTestCluster('it');
    teardowns.push(etcd.stop);
    project.provide('etcd', etcd.info);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
