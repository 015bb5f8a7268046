/**
 * `GET /ChannelFinder/resources/properties…` and `/tags…`: the definitions of properties and tags, owned by the
 * directory's owner, with `value: null`; `/{name}` adds the channels that carry it unless `withChannels=false`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PvsError } from '../../core/errors.js';
import type { CfChannel } from '../../core/model.js';
import type { QueryLimits } from '../../core/query/parse-query.js';
import { queryOf } from './channel-routes.js';
import type { DirectoryReader } from './directory-reader.js';

const NameParams = z.object({ name: z.string() });
const WithChannels = z.object({ withChannels: z.string().optional() }).loose();
const errors = { 400: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' } } as const;

// Spring's boolean binding: true unless the parameter says false.
function wantChannels(query: unknown): boolean {
  const q = WithChannels.safeParse(query ?? {});
  const v = q.success ? q.data.withChannels : undefined;
  return v === undefined || v.trim().toLowerCase() !== 'false';
}

// A property name used as an exact pattern: glob characters and separators escaped.
function literalPattern(name: string): string {
  return name.replace(/[\\*?]/g, '\\$&');
}

/** Register the property and tag definition routes. */
export function registerDefinitionRoutes(app: FastifyInstance, directory: DirectoryReader, limits: QueryLimits): void {
  const base = '/ChannelFinder/resources';

  app.get(`${base}/properties`, { schema: { response: { 200: { type: 'array', items: { $ref: 'cfProperty#' } } } } },
    () => directory.propertyNames().map((name) => ({
      name, owner: directory.propertyDefinition(name)?.owner ?? directory.owner, value: null, channels: [],
    })));

  app.get(`${base}/properties/:name`, { schema: { response: { 200: { $ref: 'cfProperty#' }, ...errors } } },
    (request) => {
      const { name } = NameParams.parse(request.params);
      const def = directory.propertyDefinition(name);
      if (def === undefined) throw new PvsError('PVS_NOT_FOUND', `property ${JSON.stringify(name)} does not exist`);
      let channels: CfChannel[] = [];
      // `|`, `,` and `;` would split the pattern: such names cannot be searched this way.
      if (wantChannels(request.query) && !/[|,;]/.test(name)) {
        channels = directory.search(queryOf({ [literalPattern(name)]: '*' }, limits)).channels;
      }
      return { name, owner: def.owner, value: null, channels };
    });

  app.get(`${base}/tags`, { schema: { response: { 200: { type: 'array', items: { $ref: 'cfTag#' } } } } },
    () => directory.tagNames().map((name) => ({ name, owner: directory.tagDefinition(name)?.owner ?? directory.owner, channels: [] })));

  app.get(`${base}/tags/:name`, { schema: { response: { 200: { $ref: 'cfTag#' }, ...errors } } },
    (request) => {
      const { name } = NameParams.parse(request.params);
      const def = directory.tagDefinition(name);
      if (def === undefined) throw new PvsError('PVS_NOT_FOUND', `tag ${JSON.stringify(name)} does not exist`);
      const channels = wantChannels(request.query) && !/[|,;]/.test(name)
        ? directory.search(queryOf({ '~tag': literalPattern(name) }, limits)).channels
        : [];
      return { name, owner: def.owner, channels };
    });
}
