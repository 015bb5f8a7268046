import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../support/fault-proxy.js';
import { listenOnFreePort } from '../../support/free-ports.js';

/** An echo server that also records everything it received. */
class Echo {
  received = '';
  readonly server: Server;
  port = 0;
  constructor() {
    this.server = createServer((s) => {
      s.on('data', (d: Buffer) => {
        this.received += d.toString();
        s.write(d);
      });
      s.on('error', () => undefined);
    });
  }
  async start(): Promise<void> { this.port = await listenOnFreePort(this.server); }
  close(): Promise<void> { return new Promise((r) => this.server.close(() => r())); }
}

/** A client socket that collects what it receives and whether it was closed. */
class Client {
  received = '';
  closed = false;
  error: NodeJS.ErrnoException | undefined;
  readonly socket: Socket;
  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (d: Buffer) => { this.received += d.toString(); });
    this.socket.on('error', (e: NodeJS.ErrnoException) => { this.error = e; });
    this.socket.on('close', () => { this.closed = true; });
  }
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Long enough for a loopback byte to cross two hops many times over; used only to show bytes do NOT move. */
const SETTLE_MS = 150;

describe('FaultProxy', () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const clients: Client[] = [];
  const client = async (): Promise<Client> => {
    const c = new Client(proxy.port);
    clients.push(c);
    await c.connected();
    return c;
  };

  beforeEach(async () => {
    echo = new Echo();
    await echo.start();
    proxy = new FaultProxy({ target: new URL(`http://127.0.0.1:${echo.port}`) });
    await proxy.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await proxy.stop();
    await echo.close();
  });

  it('listens below 32768 and forwards both ways', async () => {
    expect(proxy.port).toBeLessThan(32768);
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    const c = await client();
    c.socket.write('hello');
    await until(() => c.received === 'hello', 'echo');
    expect(echo.received).toBe('hello');
    expect(proxy.connectionCount).toBe(1);
  });

  it('pause("up") holds client bytes until resume, without closing the connection', async () => {
    const c = await client();
    c.socket.write('x');
    await until(() => c.received === 'x', 'first echo');
    proxy.pause('up');
    c.socket.write('held');
    await sleep(SETTLE_MS);
    expect(echo.received).toBe('x');
    expect(c.closed).toBe(false);
    proxy.resume('up');
    await until(() => c.received === 'xheld', 'held bytes after resume');
    expect(echo.received).toBe('xheld');
  });

  it('pause("down") lets the server receive but holds its replies', async () => {
    const c = await client();
    proxy.pause('down');
    c.socket.write('ping');
    await until(() => echo.received === 'ping', 'server receives while down is paused');
    await sleep(SETTLE_MS);
    expect(c.received).toBe('');
    proxy.resume('down');
    await until(() => c.received === 'ping', 'reply after resume');
  });

  it('pause() applies to connections opened while paused', async () => {
    proxy.pause();
    const c = await client();
    c.socket.write('late');
    await sleep(SETTLE_MS);
    expect(echo.received).toBe('');
    proxy.resume();
    await until(() => c.received === 'late', 'echo after resume');
  });

  it('dropAll resets open connections and still accepts new ones', async () => {
    const c = await client();
    proxy.dropAll();
    await until(() => c.closed, 'client sees the drop');
    expect(proxy.connectionCount).toBe(0);
    const d = await client();
    d.socket.write('again');
    await until(() => d.received === 'again', 'echo on a new connection');
  });

  it('refuse(true) refuses new connections but keeps open ones; refuse(false) accepts again', async () => {
    const open = await client();
    proxy.refuse(true);
    const refused = new Client(proxy.port);
    clients.push(refused);
    await expect(refused.connected()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.socket.write('still');
    await until(() => open.received === 'still', 'echo on the open connection');
    proxy.refuse(false);
    await proxy.ready();
    const fresh = await client();
    fresh.socket.write('back');
    await until(() => fresh.received === 'back', 'echo after refuse(false)');
  });
});
