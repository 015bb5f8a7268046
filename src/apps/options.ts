/**
 * Options shared by every command that talks to etcd: `--endpoints` (or PVSYNC_ENDPOINTS), defaulting to the local
 * cluster of etcd-cluster.yml, and the TLS and login options of a secured etcd (docs/security.md).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { EtcdSecurity } from '../adapters/etcd/client.js';
import { PvsError, messageOf } from '../core/errors.js';
import { listOption, parseList } from './option-values.js';

/** Client endpoints of the local cluster described by etcd-cluster.yml. */
export const DEFAULT_ENDPOINTS = ['http://127.0.0.1:2379', 'http://127.0.0.1:22379', 'http://127.0.0.1:32379'];

/** The security flags, their environment variables and what they name (docs/security.md lists the same). */
export const SECURITY_OPTIONS = [
  { flag: '--etcd-ca', env: 'PVSYNC_ETCD_CA', key: 'etcdCa', arg: '<file>', help: 'CA certificate (PEM) that signed etcd\'s certificates' },
  { flag: '--etcd-cert', env: 'PVSYNC_ETCD_CERT', key: 'etcdCert', arg: '<file>', help: 'client certificate (PEM); its CN is the etcd user' },
  { flag: '--etcd-key', env: 'PVSYNC_ETCD_KEY', key: 'etcdKey', arg: '<file>', help: 'private key (PEM) of --etcd-cert' },
  { flag: '--etcd-user', env: 'PVSYNC_ETCD_USER', key: 'etcdUser', arg: '<name>', help: 'etcd user for a password login (instead of the certificate\'s CN)' },
  { flag: '--etcd-password-file', env: 'PVSYNC_ETCD_PASSWORD_FILE', key: 'etcdPasswordFile', arg: '<file>', help: 'file holding the password of --etcd-user' },
] as const;

/** The raw security options as commander hands them over. */
export interface SecurityFlags {
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUser?: string;
  etcdPasswordFile?: string;
}

/** Add `--endpoints LIST` and the etcd TLS and login options to a command. */
export function withEndpoints(cmd: Command): Command {
  cmd.addOption(listOption('--endpoints <list>', 'etcd client URLs, comma-separated (env PVSYNC_ENDPOINTS)'));
  for (const o of SECURITY_OPTIONS) cmd.option(`${o.flag} ${o.arg}`, `${o.help} (env ${o.env})`);
  return cmd;
}

/**
 * The endpoints to use: the option, else PVSYNC_ENDPOINTS, else the local cluster. A bare `host:port` gets
 * `defaultScheme` (https when TLS options are given).
 */
export function resolveEndpoints(opt: EndpointsFlag, defaultScheme: 'http' | 'https' = 'http'): string[] {
  const env = process.env['PVSYNC_ENDPOINTS'];
  const list = typeof opt === 'string' ? parseList('--endpoints', opt)
    : opt ?? (env === undefined ? [] : parseList('PVSYNC_ENDPOINTS', env));
  if (list.length === 0) {
    return DEFAULT_ENDPOINTS.map((u) => (defaultScheme === 'https' ? u.replace(/^http:/, 'https:') : u));
  }
  return list.map((s) => (/^[a-z]+:\/\//.test(s) ? s : `${defaultScheme}://${s}`));
}

/** `--endpoints` as commander hands it over (a list) or as a caller spells it (comma-separated). */
export type EndpointsFlag = string | readonly string[] | undefined;

/** Where and how to reach etcd: endpoints and, for a secured cluster, the TLS material and login. */
export interface EtcdConnection {
  readonly endpoints: string[];
  readonly security?: EtcdSecurity;
}

/**
 * Resolve `--endpoints` and the security options (flags over PVSYNC_ETCD_* variables), reading and checking every
 * file now: a missing, unreadable, expired or mismatched file is a PVS_CONFIG error naming the flag and the file.
 */
export function resolveEtcd(opts: SecurityFlags & { endpoints?: EndpointsFlag }, env: NodeJS.ProcessEnv = process.env): EtcdConnection {
  const security = resolveSecurity(opts, env);
  const tls = security?.ca !== undefined || security?.cert !== undefined;
  const endpoints = resolveEndpoints(opts.endpoints, tls ? 'https' : 'http');
  if (tls) {
    const plain = endpoints.filter((u) => !u.startsWith('https://'));
    if (plain.length > 0) {
      throw new PvsError('PVS_CONFIG', `--etcd-ca/--etcd-cert need https:// endpoints, got ${plain.join(',')}`);
    }
  }
  return security === undefined ? { endpoints } : { endpoints, security };
}

const RawSecuritySchema = z.strictObject({
  etcdCa: z.string().min(1).optional(),
  etcdCert: z.string().min(1).optional(),
  etcdKey: z.string().min(1).optional(),
  etcdUser: z.string().min(1).regex(/^[^\s]+$/, 'no white space').optional(),
  etcdPasswordFile: z.string().min(1).optional(),
});

/** The security options as read from flags and environment, with every file loaded and checked; undefined when none. */
export function resolveSecurity(opts: SecurityFlags, env: NodeJS.ProcessEnv = process.env): EtcdSecurity | undefined {
  const merged: Record<string, string> = {};
  for (const o of SECURITY_OPTIONS) {
    const v = opts[o.key] ?? env[o.env];
    if (v !== undefined && v.trim() !== '') merged[o.key] = v.trim();
  }
  const parsed = RawSecuritySchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const o = SECURITY_OPTIONS.find((x) => x.key === issue?.path[0]);
    throw new PvsError('PVS_CONFIG', `${o === undefined ? 'etcd security options' : `${o.flag} (env ${o.env})`}: ${issue?.message ?? 'invalid'}`);
  }
  const raw = parsed.data;
  if (Object.keys(raw).length === 0) return undefined;
  if ((raw.etcdCert === undefined) !== (raw.etcdKey === undefined)) {
    throw new PvsError('PVS_CONFIG', '--etcd-cert and --etcd-key go together: give both (or neither)');
  }
  if ((raw.etcdUser === undefined) !== (raw.etcdPasswordFile === undefined)) {
    throw new PvsError('PVS_CONFIG', '--etcd-user and --etcd-password-file go together: give both (or neither)');
  }
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer; user?: string; password?: string } = {};
  if (raw.etcdCa !== undefined) {
    out.ca = readOption('--etcd-ca', raw.etcdCa);
    certificateOf('--etcd-ca', raw.etcdCa, out.ca);
  }
  if (raw.etcdCert !== undefined && raw.etcdKey !== undefined) {
    out.cert = readOption('--etcd-cert', raw.etcdCert);
    out.key = readOption('--etcd-key', raw.etcdKey);
    const cert = certificateOf('--etcd-cert', raw.etcdCert, out.cert);
    const key = privateKeyOf('--etcd-key', raw.etcdKey, out.key);
    if (!cert.checkPrivateKey(key)) {
      throw new PvsError('PVS_CONFIG', `--etcd-key ${raw.etcdKey} is not the private key of --etcd-cert ${raw.etcdCert}`);
    }
  }
  if (raw.etcdUser !== undefined && raw.etcdPasswordFile !== undefined) {
    // The file holds the password alone; a trailing newline (echo pw > file) is not part of it.
    const password = readOption('--etcd-password-file', raw.etcdPasswordFile).toString('utf8').replace(/\r?\n$/, '');
    if (password === '') throw new PvsError('PVS_CONFIG', `--etcd-password-file ${raw.etcdPasswordFile} is empty`);
    out.user = raw.etcdUser;
    out.password = password;
  }
  return out;
}

function readOption(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${flag} ${path}: cannot read it (${messageOf(err)})`, { cause: err });
  }
}

function certificateOf(flag: string, path: string, pem: Buffer): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${flag} ${path}: not a PEM certificate`, { cause: err });
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) throw new PvsError('PVS_CONFIG', `${flag} ${path}: the certificate expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) throw new PvsError('PVS_CONFIG', `${flag} ${path}: the certificate is valid only from ${cert.validFrom}`);
  return cert;
}

function privateKeyOf(flag: string, path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${flag} ${path}: not a PEM private key (or one protected by a passphrase)`, { cause: err });
  }
}

/** The state dir (etcd data, pid and log files): the option, else PVSYNC_STATE_DIR, else `.state` in the cwd. */
export function resolveStateDir(opt: string | undefined): string {
  const raw = opt ?? process.env['PVSYNC_STATE_DIR'];
  return raw === undefined || raw.trim() === '' ? '.state' : raw;
}

/** Add `--root PREFIX` (the keyspace root; env PVSYNC_ROOT; default /pvsync/v1/) to a command. */
export function withRoot(cmd: Command): Command {
  return cmd.option('--root <prefix>', 'etcd key prefix of this installation (env PVSYNC_ROOT)');
}

/** The keyspace root to use: the option, else PVSYNC_ROOT, else the default layout root. */
export function resolveRoot(opt: string | undefined, fallback: string): string {
  const raw = opt ?? process.env['PVSYNC_ROOT'] ?? fallback;
  return raw.endsWith('/') ? raw : `${raw}/`;
}

/** Collect a repeatable `K=V` option into a record. */
export function collectKeyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`expected K=V, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
