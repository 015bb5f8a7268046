/**
 * JSON schemas of the ChannelFinder shapes, shared by every route: they type the replies and, compiled by
 * fast-json-stringify, strip any field Phoebus would reject. Registered once per app with addSchema.
 */

/** `{name, owner, value, channels}`: a property (nested, `channels` empty) or a property definition. */
export const cfPropertySchema = {
  $id: 'cfProperty',
  type: 'object',
  properties: {
    name: { type: 'string' },
    owner: { type: 'string' },
    value: { type: ['string', 'null'] },
    channels: { type: 'array', items: { $ref: 'cfChannel#' } },
  },
  required: ['name', 'owner', 'value', 'channels'],
} as const;

/** `{name, owner, channels}`: a tag (nested, `channels` empty) or a tag definition. */
export const cfTagSchema = {
  $id: 'cfTag',
  type: 'object',
  properties: {
    name: { type: 'string' },
    owner: { type: 'string' },
    channels: { type: 'array', items: { $ref: 'cfChannel#' } },
  },
  required: ['name', 'owner', 'channels'],
} as const;

/** `{name, owner, properties, tags}`: exactly the four fields of a channel. */
export const cfChannelSchema = {
  $id: 'cfChannel',
  type: 'object',
  properties: {
    name: { type: 'string' },
    owner: { type: 'string' },
    properties: { type: 'array', items: { $ref: 'cfProperty#' } },
    tags: { type: 'array', items: { $ref: 'cfTag#' } },
  },
  required: ['name', 'owner', 'properties', 'tags'],
} as const;

/** A list of channels. */
export const cfChannelListSchema = { type: 'array', items: { $ref: 'cfChannel#' } } as const;

/**
 * The error body of every failed request: `{error, message, status, path}` (Spring's fields, minus timestamp), plus
 * the stable `code` under /api/ and /archiver/ (error-reply.ts decides). Inline form, for plugins used on their own.
 */
export const errorBodyShape = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    status: { type: 'integer' },
    path: { type: 'string' },
    code: { type: 'string' },
  },
  required: ['error', 'message', 'status', 'path'],
} as const;

/** errorBodyShape registered as `errorBody#` for the routes' `$ref`s. */
export const errorBodySchema = { $id: 'errorBody', ...errorBodyShape } as const;

/** Every schema to add to an app, in dependency-free order (fast-json-stringify resolves refs lazily). */
export const sharedSchemas = [cfPropertySchema, cfTagSchema, cfChannelSchema, errorBodySchema] as const;
