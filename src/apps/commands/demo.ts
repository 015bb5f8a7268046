/**
 * `pvsync demo`: the whole system on one machine. Starts the local 3-member etcd cluster, `pvsync serve` on port
 * 8080, an uploader for each example IOC under examples/ (but `timing`, cast through two RecCaster bridges), prints queries to try, and on Ctrl-C (SIGINT) or
 * SIGTERM stops everything it started, in reverse order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { endpointUrl } from '../../adapters/local-mariadb/local-mariadb.js';
import { PvsError } from '../../core/errors.js';
import { PORT, numberOption } from '../option-values.js';
import { openLocalCluster } from './cluster.js';
import { openLocalMariadb } from './db.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO, 'bin', 'pvsync.js');

interface DemoOptions {
  port: number;
  stateDir: string;
  ttl: number;
}

/** Register `pvsync demo` on the program. */
export function register(program: Command): void {
  const cmd = program.command('demo')
    .description('run the cluster, the API server, the example IOCs and an archiver pair until Ctrl-C')
    .addOption(numberOption('--port <port>', 'port of the API server', PORT, { fallback: 8080 }))
    .option('--state-dir <dir>', 'where the demo cluster keeps its data', join(REPO, '.state', 'demo'))
    .addOption(numberOption('--ttl <seconds>', 'liveness TTL of the example IOCs', { kind: 'seconds', min: 1 }, { fallback: 5 }));
  cmd.action(async (opts: DemoOptions) => runDemo(opts));
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const say = (line: string): void => { process.stdout.write(`demo: ${line}\n`); };
  // The demo says what happens in its own lines; its components (this process included) log only warnings and errors
  // unless PVSYNC_LOG_LEVEL asks for more.
  process.env['PVSYNC_LOG_LEVEL'] ??= 'warn';
  const children: { name: string; child: ChildProcess }[] = [];
  const cluster = await openLocalCluster({ config: join(REPO, 'etcd-cluster.yml'), stateDir: opts.stateDir });
  const mariadb = await openLocalMariadb({ stateDir: opts.stateDir });
  let stopping = false;
  const stopAll = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping uploaders (their channels turn Inactive), the server, then etcd`);
    for (const { name, child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      say(`stopped ${name}`);
    }
    await mariadb.down().catch(() => undefined);
    await cluster.down();
    say('MariaDB and etcd stopped (data kept in ' + cluster.stateDir + '); bye');
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  say('starting the 3-member etcd cluster of etcd-cluster.yml');
  const endpoints = await cluster.up();
  say(`etcd is up: ${endpoints.join(',')}`);
  const start = (name: string, args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [BIN, ...args, '--endpoints', endpoints.join(',')], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PVSYNC_LOG_LEVEL: process.env['PVSYNC_LOG_LEVEL'] ?? 'warn' },
    });
    child.on('exit', (code, signal) => {
      if (!stopping) say(`${name} exited unexpectedly (${code ?? signal}); Ctrl-C to stop the rest`);
    });
    children.push({ name, child });
    return child;
  };
  start('server', ['serve', '--port', String(opts.port), '--demo-auth']);
  // The KOMAC pair: two archiver nodes elected on an etcd lease, each agent's hooks starting and stopping a stand-in
  // appliance (archiver-sim) with the SAME identity on one shared MariaDB and one data directory.
  say('starting MariaDB (the relational mirror and the appliances\' shared archappl database)');
  const db = await mariadb.up();
  const dbUrl = endpointUrl(db);
  // archiver-sync: the relational mirror, and (in the same elected writer) archiving driven by the directory: the
  // archive tags of the example IOCs, on whichever appliance of the pair is active.
  start('archiver-sync', ['archiver-sync', '--db', endpointUrl(db, 'pvsync'), '--node', 'sync-1',
    '--archive-group', 'default', '--archive-identity', 'komac-arch']);
  say(`MariaDB is up on ${db.host}:${db.port}; archiver-sync mirrors the directory into its database pvsync and drives the active appliance`);
  const archData = join(opts.stateDir, 'archiver');
  mkdirSync(archData, { recursive: true });
  for (const [i, node] of ['archiver-a', 'archiver-b'].entries()) {
    const port = 17665 + i;
    const pid = join(archData, `${node}.pid`);
    const sim = `${q(process.execPath)} ${q(BIN)} archiver-sim --identity komac-arch --db ${q(dbUrl)} --port ${port} `
      + `--data ${q(join(archData, 'samples'))} --node ${node} --pid-file ${q(pid)}`;
    start(node, ['archiver-agent', '--node', node, '--ttl', '3', '--mgmt-url', `http://127.0.0.1:${port}/mgmt`,
      '--start', `rm -f ${q(pid)}; ${sim} >>${q(join(archData, `${node}.log`))} 2>&1 & i=0; while [ ! -s ${q(pid)} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; [ -s ${q(pid)} ]`,
      '--stop', `[ -s ${q(pid)} ] && p=$(cat ${q(pid)}) && kill "$p" 2>/dev/null; while [ -n "$p" ] && [ -e /proc/$p ] && ! grep -q ') Z' /proc/$p/stat 2>/dev/null; do sleep 0.1; done; rm -f ${q(pid)}`,
      '--hook-timeout', '40', '--watchdog-file', join(archData, `${node}.watchdog.json`)]);
  }
  const examples = readdirSync(join(REPO, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(REPO, 'examples', d.name, 'st.cmd'))).map((d) => d.name).sort();
  // One example IOC goes through two RecCaster bridges instead of an uploader, as an unmodified reccaster IOC would
  // (`pvsync cast` stands in for its reccaster module); either bridge may die, the IOC moves to the other.
  const viaBridge = examples.includes('timing') ? 'timing' : undefined;
  for (const ex of examples) {
    if (ex !== viaBridge) start(`uploader ${ex}`, ['upload', '--st-cmd', join(REPO, 'examples', ex, 'st.cmd'), '--ttl', String(opts.ttl)]);
  }
  if (viaBridge !== undefined) {
    for (const name of ['bridge-1', 'bridge-2']) {
      start(name, ['bridge', '--name', name, '--bind', '127.0.0.1:0', '--announce', '127.255.255.255:5049', '--announce-interval', '5', '--ttl', String(opts.ttl)]);
    }
    const caster = spawn(process.execPath, [BIN, 'cast', '--st-cmd', join(REPO, 'examples', viaBridge, 'st.cmd')], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PVSYNC_LOG_LEVEL: process.env['PVSYNC_LOG_LEVEL'] ?? 'warn' },
    });
    // Its warnings pass through, except once stopping: losing the bridges stopped before it is the expected end.
    caster.stderr?.on('data', (chunk: Buffer) => {
      if (!stopping) process.stderr.write(chunk);
    });
    children.unshift({ name: `reccaster IOC ${viaBridge}`, child: caster }); // stopped last: the bridges mark it Inactive
  }

  const base = `http://localhost:${opts.port}`;
  const ready = await waitFor(async () => {
    const h = await fetch(`${base}/healthz`).catch(() => null);
    if (h?.status !== 200) return false;
    const n = await fetch(`${base}/ChannelFinder/resources/channels/count?pvStatus=Active`).then((r) => r.text()).catch(() => '0');
    return Number(n) > 0 && Number(n) === Number(await fetch(`${base}/ChannelFinder/resources/channels/count`).then((r) => r.text()));
  }, 60_000);
  if (!ready) throw new PvsError('PVS_CLUSTER', `the server on port ${opts.port} did not become ready within 60 s (is the port taken?)`);
  const count = await fetch(`${base}/ChannelFinder/resources/channels/count`).then((r) => r.text());
  say(`${examples.length} example IOCs published ${count} channels; the API is at ${base}/ChannelFinder`);
  if (viaBridge !== undefined) say(`IOC ${viaBridge} reached etcd through the RecCaster bridges bridge-1/bridge-2 (UDP 5049 announcements)`);
  say(`the operator console is at ${base}/console/ (sign in as admin / adminPass to switch the archiver over)`);
  process.stdout.write([
    '',
    'Try:',
    `  curl '${base}/ChannelFinder/resources/channels?~name=LINAC:BPM01:*'`,
    `  curl '${base}/ChannelFinder/resources/channels/count?pvStatus=Active'`,
    `  curl '${base}/ChannelFinder/resources/channels?archive=*&~size=5'`,
    `  curl '${base}/ChannelFinder/resources/channels?iocName=vacuum&recordType=ai'`,
    `  curl '${base}/ChannelFinder/resources/properties'`,
    `  curl '${base}/api/v1/conflicts'`,
    `  curl -u admin:adminPass -X PUT -H 'Content-Type: application/json' -d '{"name":"demo","owner":"admin"}' ${base}/ChannelFinder/resources/tags/demo`,
    `  curl -u admin:adminPass -X PUT -H 'Content-Type: application/json' -d '{"name":"demo","owner":"admin"}' ${base}/ChannelFinder/resources/tags/demo/LINAC:BPM01:X`,
    `  curl '${base}/ChannelFinder/resources/channels?~tag=demo'`,
    `  curl -N '${base}/api/v1/watch?~name=LINAC:*'     # live changes as Server-Sent Events`,
    `  curl '${base}/api/v1/archiver/status'            # which archiver node is active`,
    `  curl -L '${base}/archiver/mgmt/bpl/getAllPVs?limit=-1'   # what the active appliance archives`,
    `  ls ${join(archData, 'samples')}            # one sample file per archived PV`,
    `  curl -u admin:adminPass -X POST -H 'Content-Type: application/json' -d '{}' ${base}/api/v1/archiver/switchover`,
    `  npx pvsync cluster status --state-dir ${cluster.stateDir}`,
    `  mariadb -h ${db.host} -P ${db.port} -u ${db.user} -p${db.password} pvsync -e 'SELECT name, status, archive FROM pv WHERE archive IS NOT NULL LIMIT 5'`,
    `  kill -9 <pid of an uploader>   # its channels turn Inactive within ${opts.ttl} s`,
    `  curl '${base}/ChannelFinder/resources/channels?iocName=timing&~size=3'   # recceiverID: the bridge that wrote it`,
    `  kill -9 <pid of that bridge>   # Inactive within ${opts.ttl} s, then Active again through the other bridge`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n'));
  await watchArchiver(base, say);
}

// Say which archiver node is active and how many PVs its appliance archives, whenever that changes.
async function watchArchiver(base: string, say: (line: string) => void): Promise<never> {
  let last = '';
  for (;;) {
    const st = await fetch(`${base}/api/v1/archiver/status`).then((r) => r.json() as Promise<{ active?: { node: string; endpoints?: { mgmt?: string } } | null }>).catch(() => null);
    const mgmt = st?.active?.endpoints?.mgmt;
    const pvs = mgmt === undefined ? null
      : await fetch(`${mgmt}/bpl/getAllPVs?limit=-1`).then((r) => (r.ok ? r.json() as Promise<unknown[]> : null)).catch(() => null);
    const now = st?.active == null ? 'no archiver node is active'
      : `${st.active.node} is the active archiver${pvs === null ? ' (its appliance is starting)' : `: its appliance archives ${pvs.length} PVs`}`;
    if (now !== last) say(now);
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
