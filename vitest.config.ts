import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Fault tests kill etcd members of the one shared cluster: run files one at a time so two never overlap.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One real 3-member etcd cluster (and later MariaDB) for the whole run; each suite uses its own key prefix.
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
