/**
 * Options shared by every command that talks to etcd: `--endpoints` (or PVSYNC_ENDPOINTS), defaulting to the local
 * cluster of etcd-cluster.yml.
 */
import type { Command } from 'commander';

/** Client endpoints of the local cluster described by etcd-cluster.yml. */
export const DEFAULT_ENDPOINTS = ['http://127.0.0.1:2379', 'http://127.0.0.1:22379', 'http://127.0.0.1:32379'];

/** Add `--endpoints LIST` to a command. */
export function withEndpoints(cmd: Command): Command {
  return cmd.option('--endpoints <list>', 'etcd client URLs, comma-separated (env PVSYNC_ENDPOINTS)');
}

/** The endpoints to use: the option, else PVSYNC_ENDPOINTS, else the local cluster. */
export function resolveEndpoints(opt: string | undefined): string[] {
  const raw = opt ?? process.env['PVSYNC_ENDPOINTS'];
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_ENDPOINTS];
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
    .map((s) => (/^[a-z]+:\/\//.test(s) ? s : `http://${s}`));
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
