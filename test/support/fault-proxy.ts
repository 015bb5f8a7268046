/**
 * A TCP proxy that tests put between a client and one server (an etcd member) to inject network faults: pause
 * traffic in one or both directions (connections stay open, bytes wait), drop every connection, refuse new ones.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { listenOnFreePort } from './free-ports.js';

/** `up` is client → server, `down` is server → client. */
export type Direction = 'up' | 'down' | 'both';

/** Where to forward, and optionally which local port to listen on (default: a random free one below 32768). */
export interface FaultProxyOptions {
  readonly target: URL | { readonly host: string; readonly port: number };
  readonly listenPort?: number;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
}

/** The proxy; `start()` before use, `stop()` after. Every fault method is synchronous and takes effect at once. */
export class FaultProxy {
  private readonly targetHost: string;
  private readonly targetPort: number;
  private server: Server | undefined;
  private listenPort: number | undefined;
  private readonly pairs = new Set<Pair>();
  private paused = { up: false, down: false };
  private refusing = false;
  private relisten: Promise<void> = Promise.resolve();

  constructor(opts: FaultProxyOptions) {
    const t = opts.target;
    this.targetHost = t instanceof URL ? t.hostname : t.host;
    this.targetPort = t instanceof URL ? Number(t.port) : t.port;
    this.listenPort = opts.listenPort;
  }

  /** Start listening on 127.0.0.1. */
  async start(): Promise<void> {
    this.server = this.newServer();
    if (this.listenPort === undefined) this.listenPort = await listenOnFreePort(this.server);
    else await listen(this.server, this.listenPort);
  }

  /** The port clients connect to. */
  get port(): number {
    if (this.listenPort === undefined) throw new Error('FaultProxy not started');
    return this.listenPort;
  }

  /** The URL clients connect to, e.g. http://127.0.0.1:23456. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open client connections (each has its own server-side connection). */
  get connectionCount(): number {
    return this.pairs.size;
  }

  /** Stop forwarding bytes in `direction`; they wait (in the kernel, then TCP flow control) until `resume`. */
  pause(direction: Direction = 'both'): void {
    for (const d of expand(direction)) this.paused[d] = true;
    for (const pair of this.pairs) this.applyPause(pair);
  }

  /** Forward again in `direction`, including the bytes that waited. */
  resume(direction: Direction = 'both'): void {
    for (const d of expand(direction)) this.paused[d] = false;
    for (const pair of this.pairs) this.applyPause(pair);
  }

  /** Reset every open connection (both sides see ECONNRESET or an abrupt close). New ones are still accepted. */
  dropAll(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.server.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** While on, new connections are refused (the port stops listening); open connections are untouched. */
  refuse(on: boolean): void {
    if (on === this.refusing) return;
    this.refusing = on;
    if (on) {
      this.server?.close();
      this.server = undefined;
    } else {
      const server = this.newServer();
      this.server = server;
      this.relisten = this.relisten.then(() => listen(server, this.port));
      // A failure surfaces through ready()/stop(), never as an unhandled rejection.
      this.relisten.catch(() => undefined);
    }
  }

  /** Resolves once a `refuse(false)` is listening again. */
  async ready(): Promise<void> {
    await this.relisten;
  }

  /** Drop every connection and stop listening. */
  async stop(): Promise<void> {
    this.dropAll();
    const server = this.server;
    this.server = undefined;
    await this.relisten.catch(() => undefined);
    if (server?.listening === true) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private newServer(): Server {
    return createServer({ pauseOnConnect: true }, (client) => this.accept(client));
  }

  private accept(client: Socket): void {
    const server = connect({ host: this.targetHost, port: this.targetPort });
    server.pause();
    const pair: Pair = { client, server };
    this.pairs.add(pair);
    const close = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      server.destroy();
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
    forward(client, server, () => this.paused.up);
    forward(server, client, () => this.paused.down);
    server.once('connect', () => this.applyPause(pair));
  }

  private applyPause(pair: Pair): void {
    if (pair.server.connecting) return;
    setFlow(pair.client, !this.paused.up);
    setFlow(pair.server, !this.paused.down);
  }
}

/** Copy `from` → `to` with backpressure; while `isPaused()` the source stays paused even when `to` drains. */
function forward(from: Socket, to: Socket, isPaused: () => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => {
    if (!isPaused()) from.resume();
  });
  from.on('end', () => to.end());
}

function setFlow(socket: Socket, flowing: boolean): void {
  if (flowing) socket.resume();
  else socket.pause();
}

function expand(direction: Direction): Array<'up' | 'down'> {
  return direction === 'both' ? ['up', 'down'] : [direction];
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
