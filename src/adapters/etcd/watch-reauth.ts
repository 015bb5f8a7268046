/**
 * Watches that survive the expiry of a password login's token. etcd's simple tokens expire after `--auth-token-ttl`
 * (300 s) without use. etcd3 re-authenticates a unary call that fails with "invalid auth token", but its one watch
 * stream keeps the token it was opened with: once that token has expired, every watch created on the stream (a
 * re-list after compaction) or re-created after a reconnect is cancelled with "invalid auth token" (or "permission
 * denied" in older etcd), and etcd3's attach queue then waits forever for that create. Here, at our client edge, such a
 * cancellation drops the cached token and re-opens the stream, so every watcher is re-created with a fresh login.
 * Certificate identity (no `auth` option) has no token and needs none of this.
 */
import { EtcdInvalidAuthTokenError, type Etcd3, type IWatchResponse, type Watcher } from 'etcd3';

// The parts of etcd3 1.1.2's internals used here (lib/watch.js WatchManager, lib/connection-pool.js Authenticator).
interface WatchManagerInternals {
  attach(watcher: Watcher): void;
  handleCancelResponse(watcher: Watcher, res: IWatchResponse): void;
  handleError(err: Error): void;
}
interface ClientInternals {
  readonly watchManager?: WatchManagerInternals;
  readonly pool?: { readonly authenticator?: { invalidateMetadata(): void } };
}

const AUTH_REASON = /invalid auth token|permission denied|auth token is expired/i;

/**
 * Make `client`'s watches log in again when etcd cancels them for an expired token. A watcher gets one such retry per
 * successful creation, so a real lack of read permission still reaches it as an `error` after one re-login.
 */
export function reauthenticateWatches(client: Etcd3): void {
  const internals = client as unknown as ClientInternals;
  const manager = internals.watchManager;
  const authenticator = internals.pool?.authenticator;
  if (manager === undefined || authenticator === undefined) {
    throw new Error('etcd3 internals changed: cannot re-authenticate watches (see src/adapters/etcd/watch-reauth.ts)');
  }
  const retried = new WeakSet<Watcher>();
  const attach = manager.attach.bind(manager);
  manager.attach = (watcher) => {
    watcher.on('connected', () => retried.delete(watcher));
    attach(watcher);
  };
  const cancel = manager.handleCancelResponse.bind(manager);
  manager.handleCancelResponse = (watcher, res) => {
    if (!AUTH_REASON.test(res.cancel_reason) || retried.has(watcher)) {
      cancel(watcher, res);
      return;
    }
    retried.add(watcher);
    authenticator.invalidateMetadata();
    // The watcher stays attached: re-opening the stream re-creates every watcher from its request, with a new token.
    manager.handleError(new EtcdInvalidAuthTokenError(`watch cancelled: ${res.cancel_reason}; logging in again`));
  };
  const fail = manager.handleError.bind(manager);
  manager.handleError = (err) => {
    if (err instanceof EtcdInvalidAuthTokenError || AUTH_REASON.test(err.message)) authenticator.invalidateMetadata();
    fail(err);
  };
}
