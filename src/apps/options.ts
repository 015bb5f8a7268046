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
