/**
 * pvsync's own read routes beside the ChannelFinder API: `GET /api/v1/conflicts` lists the channel names that two or
 * more live IOCs serve at once (the channel follows the IOC that uploaded last).
 */
import type { FastifyInstance } from 'fastify';
import type { DirectoryReader } from './directory-reader.js';

const conflictsSchema = {
  type: 'object',
  properties: {
    revision: { type: 'number' },
    conflicts: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, iocIds: { type: 'array', items: { type: 'string' } } } },
    },
  },
} as const;

/** Register the pvsync status routes. */
export function registerStatusRoutes(app: FastifyInstance, directory: DirectoryReader): void {
  app.get('/api/v1/conflicts', { schema: { response: { 200: conflictsSchema } } },
    () => ({ revision: directory.revision, conflicts: directory.conflicts() }));
}
