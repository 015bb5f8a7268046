/**
 * `npm run bench:appliance`: 100 000 archive requests reconciled through the stand-in appliance (bench/lib/
 * appliance-reconcile.ts) on a MariaDB server of its own (or PVSYNC_BENCH_MARIADB_URL). Prints one JSON line.
 */
import { endpointUrl } from '../src/adapters/local-mariadb/local-mariadb.js';
import { startTestMariadb } from '../test/support/start-mariadb.js';
import { measureApplianceReconcile } from './lib/appliance-reconcile.js';

const count = Number(process.env.PVSYNC_BENCH_APPLIANCE_COUNT ?? 100_000);
const given = process.env.PVSYNC_BENCH_MARIADB_URL;
const server = given === undefined ? await startTestMariadb('bench-appliance') : null;
try {
  const dbUrl = given ?? endpointUrl(server?.info ?? { host: '', port: 0, user: '', password: '' });
  const f = await measureApplianceReconcile({ dbUrl, count });
  process.stdout.write(`${JSON.stringify({ bench: 'appliance', ...f })}\n`);
} finally {
  await server?.stop();
}
