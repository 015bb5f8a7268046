/**
 * Request bodies of the ChannelFinder write API, validated with zod. Clients send extra or null fields (Phoebus
 * sends `channels: []`, nested owners, `value: null` on tags), so the shapes are loose and every field optional;
 * the write rules then refuse empty names, owners and values with 400, as upstream.
 */
import { z } from 'zod';
import { PvsError } from '../errors.js';

// ChannelFinder (Jackson) coerces a JSON number or boolean where it expects a string and stores its text:
// pyCFClient's CFUpdateIOC sends `time` as a number. null, objects and arrays are still refused.
const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'string' ? v : scalarText(v)));
const Str = Scalar.nullish();

/**
 * The text stored for a JSON number or boolean: `12.5` → "12.5", `true` → "true". Over HTTP numbers arrive
 * already as their exact text (core/writes/number-text.ts); a number that reaches here otherwise is written as
 * JavaScript prints it.
 */
export function scalarText(v: number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : JSON.stringify(v);
}

/** A nested property as a client sends it. */
export interface PropertyBody {
  readonly name?: string | null | undefined;
  readonly owner?: string | null | undefined;
  readonly value?: string | null | undefined;
  readonly channels?: readonly ChannelBody[] | null | undefined;
}

/** A tag as a client sends it. */
export interface TagBody {
  readonly name?: string | null | undefined;
  readonly owner?: string | null | undefined;
  readonly channels?: readonly ChannelBody[] | null | undefined;
}

/** A channel as a client sends it. */
export interface ChannelBody {
  readonly name?: string | null | undefined;
  readonly owner?: string | null | undefined;
  readonly properties?: readonly PropertyBody[] | null | undefined;
  readonly tags?: readonly TagBody[] | null | undefined;
}

const ChannelZ: z.ZodType<ChannelBody> = z.lazy(() => z.object({
  name: Str, owner: Str, properties: z.array(PropertyZ).nullish(), tags: z.array(TagZ).nullish(),
}).loose());
const PropertyZ: z.ZodType<PropertyBody> = z.lazy(() => z.object({
  name: Str, owner: Str, value: Str, channels: z.array(ChannelZ).nullish(),
}).loose());
const TagZ: z.ZodType<TagBody> = z.lazy(() => z.object({ name: Str, owner: Str, channels: z.array(ChannelZ).nullish() }).loose());

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  if (body === undefined || body === null) throw new PvsError('PVS_BAD_REQUEST', `a JSON ${what} is required as the request body`);
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PvsError('PVS_BAD_REQUEST', `invalid ${what}: ${issue === undefined ? 'bad shape' : `${issue.path.join('.') || '(body)'}: ${issue.message}`}`);
}

/** Parse one channel body (400 on a wrong shape). */
export const channelBody = (b: unknown): ChannelBody => parse(ChannelZ, b, 'channel');
/** Parse a list of channels. */
export const channelListBody = (b: unknown): readonly ChannelBody[] => parse(z.array(ChannelZ), b, 'channel list');
/** Parse one property body. */
export const propertyBody = (b: unknown): PropertyBody => parse(PropertyZ, b, 'property');
/** Parse a list of properties. */
export const propertyListBody = (b: unknown): readonly PropertyBody[] => parse(z.array(PropertyZ), b, 'property list');
/** Parse one tag body. */
export const tagBody = (b: unknown): TagBody => parse(TagZ, b, 'tag');
/** Parse a list of tags. */
export const tagListBody = (b: unknown): readonly TagBody[] => parse(z.array(TagZ), b, 'tag list');

/** Parse the body of `DELETE /channels`: a list of names, or of channels (their names are used). */
export function nameListBody(b: unknown): string[] {
  const r = parse(z.array(z.union([Scalar, ChannelZ])), b, 'list of channel names');
  return r.map((x) => (typeof x === 'string' ? x : x.name ?? ''));
}

/** A non-empty string, or 400 naming `what`. */
export function required(v: string | null | undefined, what: string): string {
  if (v === undefined || v === null || v === '') throw new PvsError('PVS_BAD_REQUEST', `${what} cannot be null or empty`);
  return v;
}
