/**
 * `pvsync security add --kind ioc|api|archiver [NAME]` (and `pvsync security add-ioc IOCNAME@host`): create the etcd
 * user and role of one component with least privilege (src/core/security/roles.ts) and issue its client certificate
 * (CN = the etcd user) from the CA. Talks to etcd as an administrator: the root identity of `pvsync cluster env`.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { applyRolePlan, enableAuth } from '../../adapters/etcd/etcd-auth.js';
import { OpensslCa } from '../../adapters/pki/openssl.js';
import { PvsError, messageOf } from '../../core/errors.js';
import { ROOT } from '../../core/keyspace.js';
import { parseIdentity, rolePlan, type RolePlan } from '../../core/security/roles.js';
import { tlsDirOf } from '../cluster-security.js';
import { COUNT, numberOption } from '../option-values.js';
import { resolveEtcd, resolveRoot, resolveStateDir, withEndpoints, withRoot, type SecurityFlags } from '../options.js';

interface AddOptions extends SecurityFlags {
  kind: string;
  out: string;
  caDir?: string;
  stateDir?: string;
  archiverGroup?: string[];
  userPasswordFile?: string;
  cert: boolean;
  days: number;
  endpoints?: readonly string[];
  root?: string;
}

/** What `security add` did, as printed with --json. */
export interface AddResult {
  readonly plan: RolePlan;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The options of every command that issues a certificate from the CA: where the CA is, where files go, validity. */
function withCaOptions(cmd: Command): Command {
  return cmd
    .option('--out <dir>', 'where to write <name>.crt and <name>.key', '.')
    .option('--ca-dir <dir>', 'directory of the CA (ca.crt, ca.key); default <state-dir>/tls of `cluster up --secure`')
    .option('--state-dir <dir>', 'state dir of the local cluster (env PVSYNC_STATE_DIR, default .state)')
    .addOption(numberOption('--days <n>', 'validity of the certificate in days', COUNT, { fallback: 825 }));
}

function common(cmd: Command): Command {
  withCaOptions(cmd)
    .option('--archiver-group <name>', 'api: archiver group whose switchover it may request (repeatable; default "default")', collect)
    .option('--user-password-file <file>', 'also give the user this password (password login; certificates need none)')
    .option('--no-cert', 'create the user and role only, no certificate')
    .option('--json', 'print the result as JSON');
  return withRoot(withEndpoints(cmd));
}

/** Register `pvsync security`. */
export function register(program: Command): void {
  const security = program.command('security').description('etcd users, roles and client certificates (docs/security.md)');
  common(security.command('add').description('create the etcd user and role of one component and issue its certificate')
    .requiredOption('--kind <kind>', 'ioc (NAME = IOCNAME@host), api, or archiver (NAME = group)')
    .argument('[name]', 'the IOC id (IOCNAME@host) or the archiver group'))
    .action(async (name: string | undefined, opts: AddOptions & { json?: boolean }) => runAdd(name, opts));
  withCaOptions(security.command('cert').description('issue a certificate from the CA (made on first use): etcd members, root, others')
    .requiredOption('--name <name>', 'file name: writes <out>/<name>.crt and <name>.key')
    .option('--cn <name>', 'subject CN (the etcd user of a client); default: --name')
    .option('--san <name>', 'subject alternative name of a member, IP:addr or DNS:name (repeatable)', collect))
    .action(async (o: { name: string; cn?: string; san?: string[]; caDir?: string; stateDir?: string; out: string; days: number }) => {
      const ca = new OpensslCa(resolve(o.caDir ?? tlsDirOf(resolveStateDir(o.stateDir))));
      const files = await ca.issue(resolve(o.out), o.name, { commonName: o.cn ?? o.name, altNames: o.san ?? [], days: o.days });
      process.stdout.write(`certificate (CN ${o.cn ?? o.name}): ${files.cert}\nkey: ${files.key}\nCA: ${ca.files.cert}\n`);
    });
  withEndpoints(security.command('enable-auth')
    .description('turn etcd authentication on: user root (certificate CN root) with role root, then auth enable'))
    .action(async (o: SecurityFlags & { endpoints?: readonly string[] }) => {
      const { endpoints, security: sec } = resolveEtcd(o);
      const client = createEtcdClient(endpoints, sec === undefined ? {} : { security: sec });
      try {
        await enableAuth(client);
      } finally {
        client.close();
      }
      process.stdout.write('etcd authentication is on; root is the client certificate with CN root\n');
    });
  common(security.command('add-ioc').description('the same as `add --kind ioc IOCNAME@host`')
    .argument('<iocId>', 'IOCNAME@host'))
    .action(async (name: string, opts: AddOptions & { json?: boolean }) => runAdd(name, { ...opts, kind: 'ioc' }));
}

async function runAdd(name: string | undefined, opts: AddOptions & { json?: boolean }): Promise<void> {
  const identity = parseIdentity(opts.kind, name, opts.archiverGroup ?? ['default']);
  const plan = rolePlan(identity, resolveRoot(opts.root, ROOT));
  const days = opts.days;
  let password: string | undefined;
  if (opts.userPasswordFile !== undefined) {
    try {
      password = readFileSync(opts.userPasswordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new PvsError('PVS_CONFIG', `--user-password-file ${opts.userPasswordFile}: cannot read it (${messageOf(err)})`, { cause: err });
    }
    if (password === '') throw new PvsError('PVS_CONFIG', `--user-password-file ${opts.userPasswordFile} is empty`);
  }
  const { endpoints, security } = resolveEtcd(opts);
  const client = createEtcdClient(endpoints, security === undefined ? {} : { security });
  try {
    await applyRolePlan(client, plan, password);
  } finally {
    client.close();
  }
  let result: AddResult = { plan };
  if (opts.cert) {
    const ca = new OpensslCa(resolve(opts.caDir ?? tlsDirOf(resolveStateDir(opts.stateDir))));
    const files = await ca.issue(resolve(opts.out), plan.user, { commonName: plan.user, days });
    result = { plan, cert: files.cert, key: files.key, ca: ca.files.cert };
  }
  process.stdout.write(opts.json === true ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
}

function formatResult(r: AddResult): string {
  const lines = [`etcd user ${r.plan.user} with role ${r.plan.role}:`];
  for (const p of r.plan.permissions) lines.push(`  ${p.type} ${p.key}${p.prefix ? ' (prefix)' : ''}`);
  if (r.cert !== undefined && r.key !== undefined && r.ca !== undefined) {
    lines.push(`certificate (CN ${r.plan.user}): ${r.cert}`, `key: ${r.key}`, 'run the component with:',
      `  PVSYNC_ETCD_CA=${r.ca} PVSYNC_ETCD_CERT=${r.cert} PVSYNC_ETCD_KEY=${r.key}`);
  }
  return lines.join('\n') + '\n';
}
