/**
 * Finding the `etcd` server binary, and installing Debian's etcd-server/etcd-client packages when it is missing
 * and we may (root on Debian). Otherwise a PVS_CLUSTER error says what to install.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { PvsError } from '../../core/errors.js';

/** Where to look and whether installing is allowed; apps fill this from the environment. */
export interface EnsureEtcdOptions {
  /** The PATH to search (`process.env.PATH`). */
  readonly searchPath: string;
  /** True when running as root (installing needs it). */
  readonly isRoot: boolean;
  /** Install with apt-get when missing and allowed (default true). */
  readonly install?: boolean;
  readonly log?: Logger;
}

const DEBIAN_PACKAGES = ['etcd-server', 'etcd-client'];

/** The absolute path of `etcd` on the search path (plus /usr/bin and /usr/sbin), or undefined. */
export async function findEtcd(searchPath: string): Promise<string | undefined> {
  const dirs = [...searchPath.split(delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'etcd');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** The path of `etcd`, installing Debian's packages first when it is missing and we are root on Debian. */
export async function ensureEtcd(opts: EnsureEtcdOptions): Promise<string> {
  const found = await findEtcd(opts.searchPath);
  if (found !== undefined) return found;
  const debian = await exists('/etc/debian_version');
  if (!(opts.install ?? true) || !opts.isRoot || !debian) {
    throw new PvsError('PVS_CLUSTER', 'etcd is not installed: install etcd 3.4+ (Debian: `apt-get install etcd-server '
      + 'etcd-client`, or run scripts/install-deps.sh as root) or put `etcd` on PATH');
  }
  opts.log?.info({ packages: DEBIAN_PACKAGES }, 'installing etcd');
  try {
    if (!(await aptKnows(DEBIAN_PACKAGES[0] ?? 'etcd-server'))) await run('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update']);
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES]);
  } catch (err) {
    throw new PvsError('PVS_CLUSTER', `installing ${DEBIAN_PACKAGES.join(' ')} failed: ${(err as Error).message}`,
      { cause: err });
  }
  const installed = await findEtcd(opts.searchPath);
  if (installed === undefined) throw new PvsError('PVS_CLUSTER', 'etcd is still missing after installing etcd-server');
  return installed;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when apt has a candidate version of the package (its lists are not empty or stale for it). */
async function aptKnows(pkg: string): Promise<boolean> {
  try {
    const out = await run('apt-cache', ['policy', pkg]);
    return /Candidate: (?!\(none\))/.test(out);
  } catch {
    return false;
  }
}

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { env: { DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      else resolve(stdout);
    });
  });
}
