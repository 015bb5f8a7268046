/**
 * `pvsync query QUERY`: a ChannelFinder query through the failover client (src/adapters/cf-client), over the
 * installations of installations.yml (nearest first, by this host's addresses, unless `--installation` says) or the
 * `--url`s given. Prints one channel per line (`--json`: one JSON object per line); `--watch` then follows changes,
 * printing each event (a `reset` when the stream had to move to another installation).
 */
import type { Command } from 'commander';
import { FailoverClient, type ClientEndpoint } from '../../adapters/cf-client/failover-client.js';
import { PvsError } from '../../core/errors.js';
import { failoverOrder, installationOf } from '../../core/installations/config.js';
import { clientInstallation, installationsPath, loadInstallations } from '../installations-file.js';
import { COUNT, numberOption } from '../option-values.js';

interface QueryOptions {
  installations?: string;
  installation?: string;
  url?: string[];
  json?: boolean;
  watch?: boolean;
  pageSize: number;
  timeoutMs: number;
}

/** Register `pvsync query` on the program. */
export function register(program: Command): void {
  program.command('query')
    .description('query the directory (ChannelFinder query, e.g. "~name=LINAC:*&pvStatus=Active"), failing over between installations')
    .argument('[query]', 'ChannelFinder query string', '~name=*')
    .option('--installations <file>', 'installations file (env PVSYNC_INSTALLATIONS)')
    .option('--installation <name>', 'installation to prefer (default: the nearest by this host\'s addresses; env PVSYNC_INSTALLATION)')
    .option('--url <url...>', 'API base URLs in preference order (instead of an installations file)')
    .option('--json', 'print each channel as one JSON line', false)
    .option('--watch', 'after the query, follow changes (Server-Sent Events) until Ctrl-C', false)
    .addOption(numberOption('--page-size <n>', 'channels per page', COUNT, { fallback: 1000 }))
    .addOption(numberOption('--timeout-ms <ms>', 'deadline of one request', { kind: 'ms', min: 1 }, { fallback: 5000 }))
    .action(async (query: string, opts: QueryOptions) => runQuery(query, opts));
}

function endpointsOf(opts: QueryOptions): ClientEndpoint[] {
  if (opts.url !== undefined && opts.url.length > 0) return opts.url.map((url, i) => ({ installation: `url${i + 1}`, url }));
  const file = installationsPath(opts.installations);
  if (file === undefined) throw new PvsError('PVS_CONFIG', 'pvsync query needs --installations FILE (env PVSYNC_INSTALLATIONS) or --url');
  const cfg = loadInstallations(file);
  const near = clientInstallation(cfg, file, opts.installation);
  // ChannelFinder channels are IOC records and API-written data together: installations holding the API data first.
  return failoverOrder(cfg, 'api', near.name).flatMap((name) => (installationOf(cfg, name)?.api ?? []).map((url) => ({ installation: name, url })));
}

async function runQuery(query: string, opts: QueryOptions): Promise<void> {
  const { pageSize, timeoutMs } = opts;
  const client = new FailoverClient({
    endpoints: endpointsOf(opts), timeoutMs,
    onMove: (from, to, reason) => process.stderr.write(`pvsync: moved from ${from.installation} to ${to.installation} (${reason})\n`),
  });
  const q = query.replace(/^\?/, '');
  try {
    for await (const ch of client.scroll(q, pageSize)) process.stdout.write(opts.json === true ? `${JSON.stringify(ch)}\n` : `${ch.name}\n`);
    if (opts.watch !== true) return;
    const ctl = new AbortController();
    process.once('SIGINT', () => ctl.abort());
    process.once('SIGTERM', () => ctl.abort());
    await client.watch(q, (ev) => process.stdout.write(`${JSON.stringify(ev)}\n`), ctl.signal);
  } finally {
    client.close(); // a background probe in flight would otherwise keep the process up to --timeout-ms
  }
}
