/**
 * Whether a TCP port can be bound, checked by binding it for a moment: the guard that keeps a member from "starting"
 * while another process (often another cluster) already serves its port and would answer its health checks.
 */
import { createServer } from 'node:net';

/** True when `host:port` could be bound right now. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
