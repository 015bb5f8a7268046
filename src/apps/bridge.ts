/**
 * The RecCaster bridge (`pvsync bridge`): announces itself over UDP, accepts unmodified reccaster IOCs over TCP and
 * publishes each one to etcd exactly as `pvsync upload` does — one leased session per IOC, so several bridges can
 * run at once with one writer per IOC (docs/operations.md, docs/keyspace.md).
 */
import { randomInt } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { BridgeSession } from '../adapters/etcd/bridge-session.js';
import { Announcer, type AnnounceTarget } from '../adapters/reccaster/announcer.js';
import { RecCasterServer, type SessionControl, type SessionSink } from '../adapters/reccaster/server.js';
import { messageOf, type PvsError } from '../core/errors.js';
import type { Keyspace } from '../core/keyspace.js';
import type { IocRecord } from '../core/model.js';
import type { IocIdentity } from '../core/reccaster/session.js';

/** Everything a bridge needs, as resolved from its options. */
export interface BridgeConfig {
  /** The bridge's name: `recceiverID` of the channels it publishes. */
  readonly name: string;
  readonly host: string;
  /** TCP port; 0 = any free one (it is announced). */
  readonly port: number;
  readonly announce: readonly AnnounceTarget[];
  readonly announceIntervalMs: number;
  readonly ttlSeconds: number;
  /** How long a second session of one IOC waits for the first one's claim to go before it is closed. */
  readonly claimWaitMs: number;
  readonly pingIntervalMs: number;
  readonly frameTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPerPeer: number;
}

/** A running bridge. */
export interface RunningBridge {
  readonly port: number;
  readonly serverKey: number;
  /** Sessions whose upload is complete (for tests and logs). */
  readonly completed: () => number;
  /** Stop announcing, close every connection (each IOC marked Inactive), wait for that. */
  close(): Promise<void>;
}

/** Start a bridge on `client` under `keys`. */
export async function startBridge(cfg: BridgeConfig, client: Etcd3, keys: Keyspace, log: Logger): Promise<RunningBridge> {
  const serverKey = randomInt(1, 0xffffffff);
  const ending = new Set<Promise<void>>();
  let completed = 0;
  const newSink = (control: SessionControl): SessionSink => {
    const slog = log.child({ component: 'session', peer: control.peer });
    let session: BridgeSession | null = null;
    let ready: Promise<boolean> = Promise.resolve(false);
    let ioc = '';
    return {
      identity(identity: IocIdentity) {
        ioc = identity.iocId;
        const s = new BridgeSession({
          client, keys, ioc: identity, writer: cfg.name, peer: control.peer, ttlSeconds: cfg.ttlSeconds,
          log: slog, claimWaitMs: cfg.claimWaitMs,
          onLost: (err: PvsError) => {
            slog.warn({ ioc, err: err.message, code: err.code }, 'session can no longer write: closing the connection');
            control.close(err.message);
          },
        });
        s.onProgress = () => control.progress();
        session = s;
        ready = s.claim().then(() => {
          slog.info({ ioc, token: s.claimToken }, 'IOC connected: session claimed');
          return true;
        }, (err: unknown) => {
          const e = err as PvsError;
          if (e.code === 'PVS_ETCD_CONFLICT') slog.warn({ ioc, err: e.message }, 'IOC refused: another session writes it');
          else slog.warn({ ioc, err: messageOf(err) }, 'IOC session could not be claimed: closing');
          control.close(messageOf(err));
          return false;
        });
      },
      records(records: readonly IocRecord[]) {
        session?.add(records);
        control.progress();
      },
      done(records: readonly IocRecord[], names: ReadonlySet<string>) {
        const s = session;
        if (s === null) return;
        void ready.then(async (ok) => {
          if (!ok) return;
          const report = await s.complete(records, names);
          completed++;
          slog.info({ ioc, ...report }, 'upload complete');
        }).catch((err: unknown) => {
          slog.warn({ ioc, err: messageOf(err) }, 'upload could not be completed: closing the connection');
          control.close(messageOf(err));
        });
      },
      closed(reason: string) {
        const s = session;
        if (s === null) {
          slog.debug({ reason }, 'connection closed before the IOC identified itself');
          return;
        }
        slog.info({ ioc, reason }, 'IOC disconnected');
        const p = ready.then(() => s.end()).catch(() => undefined).finally(() => ending.delete(p));
        ending.add(p);
      },
      backlog() {
        return session?.backlog ?? 0;
      },
    };
  };
  const server = new RecCasterServer({
    host: cfg.host, port: cfg.port, log, newSink, pingIntervalMs: cfg.pingIntervalMs,
    frameTimeoutMs: cfg.frameTimeoutMs, maxConnections: cfg.maxConnections, maxPerPeer: cfg.maxPerPeer,
  });
  await server.listen();
  const port = server.port;
  // 255.255.255.255 tells the IOC to connect to the datagram's source address (a bridge bound to every interface).
  const address = cfg.host === '0.0.0.0' ? '255.255.255.255' : cfg.host;
  const announcer = new Announcer({ targets: cfg.announce, announcement: { address, port, serverKey }, intervalMs: cfg.announceIntervalMs, log });
  await announcer.start();
  log.info({ bridge: cfg.name, host: cfg.host, port, announce: cfg.announce.map((t) => `${t.host}:${t.port}`) }, 'bridge listening');
  return {
    port, serverKey,
    completed: () => completed,
    async close() {
      announcer.close();
      await server.close();
      await Promise.all([...ending]);
    },
  };
}
