/**
 * Free TCP ports for test servers, always below 32768: 32768–60999 is Linux's ephemeral range, where a listener can
 * collide with an outgoing connection. Ports are drawn at random so parallel test runs rarely pick the same ones.
 */
import { createServer, type Server } from 'node:net';

const MIN_PORT = 20_000;
const MAX_PORT = 32_000;

function randomPort(): number {
  return MIN_PORT + Math.floor(Math.random() * (MAX_PORT - MIN_PORT));
}

/** Listen on 127.0.0.1 at a random free port below 32768 (retrying on EADDRINUSE); returns the port. */
export async function listenOnFreePort(server: Server, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomPort();
    const ok = await new Promise<boolean>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
        else reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
    if (ok) return port;
  }
  throw new Error('no free port found below 32768');
}

/** `n` distinct ports that were free a moment ago (each checked by binding it, then released). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  const ports = new Set<number>();
  try {
    while (ports.size < n) {
      const server = createServer();
      servers.push(server);
      ports.add(await listenOnFreePort(server, host));
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      if (s.listening) s.close(() => resolve());
      else resolve();
    })));
  }
  return [...ports];
}
