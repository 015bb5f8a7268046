/**
 * The operator console's files (built by scripts/build-console.mjs into dist/console/), served by @fastify/static
 * under `/console/`, with `/` redirected there. Asset names carry a content hash, so they are cached for a year and
 * never revalidated; `index.html` (which names them) is revalidated on every load, so a new build shows at once.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the console is served. */
export const CONSOLE_PATH = '/console/';

const HASHED = /-[A-Z0-9]{8}\.(?:js|css|map)$/;

/** Register the console's routes; `root` is the directory of the built console (with index.html). */
export async function registerConsole(app: FastifyInstance, root: string): Promise<void> {
  await app.register(fastifyStatic, {
    root, prefix: CONSOLE_PATH, index: ['index.html'], redirect: false, wildcard: true,
    cacheControl: false, // set below, per file kind
    setHeaders: (res, path) => {
      res.setHeader('cache-control', HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      if (path.endsWith('.html')) {
        // Everything comes from this server: no CDN, no inline script, no framing by other sites.
        res.setHeader('content-security-policy',
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
      }
    },
  });
  // The router ignores trailing slashes, so this one route answers `/console` and `/console/` alike.
  app.get('/console', (_req, reply) => reply.sendFile('index.html'));
  app.get('/', (_req, reply) => reply.redirect(CONSOLE_PATH, 302));
}
