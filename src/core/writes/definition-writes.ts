/**
 * The property and tag write rules of ChannelFinder (`/resources/properties`, `/resources/tags`): PUT creates or
 * replaces a definition and puts it exclusively on the channels of the payload, POST merges (a different body name
 * renames), `/{name}/{channel}` adds or removes it on one channel, DELETE strips it from every channel.
 * Properties need the PROPERTY role, tags TAG; ownership is the definition's. Unknown channels: 400 for
 * properties, 404 for tags (upstream's codes).
 */
import { PvsError } from '../errors.js';
import { requireOwner, requireRole, type Principal } from '../auth/principal.js';
import { required, type PropertyBody, type TagBody } from './bodies.js';
import type { Changeset } from './changeset.js';
import type { WriteResult } from './channel-writes.js';

type Kind = 'property' | 'tag';

const ROLE = { property: 'PROPERTY', tag: 'TAG' } as const;

/** A property or tag body, both kinds alike (`value` only on properties' channels). */
type DefBody = PropertyBody | TagBody;

interface Checked {
  readonly name: string;
  readonly owner: string;
  /** Channel name → value (null for tags). */
  readonly channels: Map<string, string | null>;
}

// Upstream: name and owner required; every channel must exist; for properties it must carry a non-empty value.
function check(cs: Changeset, kind: Kind, body: DefBody): Checked {
  const name = required(body.name, `${kind} name`);
  const owner = required(body.owner, `owner of ${kind} ${name}`);
  const channels = new Map<string, string | null>();
  for (const ch of body.channels ?? []) {
    const cn = required(ch.name, `channel name in ${kind} ${name}`);
    if (!cs.exists(cn)) {
      throw new PvsError(kind === 'property' ? 'PVS_BAD_REQUEST' : 'PVS_NOT_FOUND', `channel ${JSON.stringify(cn)} does not exist`);
    }
    if (kind === 'tag') {
      channels.set(cn, null);
      continue;
    }
    const value = (ch.properties ?? []).find((p) => p.name === name)?.value;
    if (value === undefined || value === null || value === '') {
      throw new PvsError('PVS_BAD_REQUEST', `channel ${JSON.stringify(cn)} does not carry property ${name} with a non-empty value`);
    }
    channels.set(cn, value);
  }
  return { name, owner, channels };
}

// Put (value) or remove (undefined) one property or tag on one channel's API-written part.
function setOn(cs: Changeset, kind: Kind, channel: string, name: string, value: string | null | undefined): void {
  const ch = cs.editable(channel);
  if (ch === null) return;
  if (kind === 'property') {
    const props = ch.properties.filter((p) => p.name !== name);
    if (value !== undefined && value !== null) props.push({ name, value });
    cs.putChannel({ ...ch, properties: props });
  } else {
    const tags = ch.tags.filter((t) => t !== name);
    if (value !== undefined) tags.push(name);
    cs.putChannel({ ...ch, tags });
  }
}

function valueOn(cs: Changeset, kind: Kind, channel: string, name: string): string | null | undefined {
  const ch = cs.stored(channel);
  if (ch === null) return undefined;
  if (kind === 'tag') return ch.tags.includes(name) ? null : undefined;
  return ch.properties.find((p) => p.name === name)?.value;
}

function stripEverywhere(cs: Changeset, kind: Kind, name: string): void {
  for (const channel of cs.channelsWith(kind, name)) setOn(cs, kind, channel, name, undefined);
}

/** `PUT /{kind}/{name}`: create or replace the definition; it ends up on exactly the payload's channels. */
export function putDefinition(cs: Changeset, p: Principal | null, kind: Kind, path: string, body: DefBody): WriteResult {
  const user = requireRole(p, ROLE[kind], `create ${kind} ${path}`);
  const d = check(cs, kind, body);
  requireOwner(user, d.owner, `${kind} ${d.name}`);
  const existing = cs.definition(kind, path);
  if (existing !== undefined) {
    requireOwner(user, existing.owner, `${kind} ${path}`);
    stripEverywhere(cs, kind, path);
    cs.putDefinition(kind, path, null);
  }
  if (d.name !== path) stripEverywhere(cs, kind, d.name);
  cs.putDefinition(kind, d.name, { name: d.name, owner: d.owner });
  for (const [channel, value] of d.channels) setOn(cs, kind, channel, d.name, value);
  return { kind: 'definition', type: kind, name: d.name, channels: [...d.channels.keys()] };
}

/** `PUT /{kind}`: create or replace each definition of the list. */
export function putDefinitions(cs: Changeset, p: Principal | null, kind: Kind, list: readonly DefBody[]): WriteResult {
  return eachDefinition(cs, p, kind, list, 'create', putDefinition);
}

/** Apply a single-definition write to every body of a list form, after checking the role once. */
function eachDefinition(
  cs: Changeset, p: Principal | null, kind: Kind, list: readonly DefBody[], verb: string,
  one: (cs: Changeset, p: Principal | null, kind: Kind, path: string, body: DefBody) => WriteResult,
): WriteResult {
  requireRole(p, ROLE[kind], `${verb} ${kind}s`);
  const names: string[] = [];
  for (const body of list) {
    const r = one(cs, p, kind, required(body.name, `${kind} name`), body);
    if (r.kind === 'definition') names.push(r.name);
  }
  return { kind: 'definitions', type: kind, names };
}

/** `POST /{kind}/{name}`: merge (owner from the body, add to the payload's channels); a different name renames. */
export function postDefinition(cs: Changeset, p: Principal | null, kind: Kind, path: string, body: DefBody): WriteResult {
  const user = requireRole(p, ROLE[kind], `update ${kind} ${path}`);
  const d = check(cs, kind, body);
  requireOwner(user, d.owner, `${kind} ${d.name}`);
  const existing = cs.definition(kind, path);
  let name = d.name;
  if (existing !== undefined) {
    requireOwner(user, existing.owner, `${kind} ${path}`);
    if (d.name.toLowerCase() === existing.name.toLowerCase()) {
      name = existing.name;
    } else {
      // Rename: every channel carrying the old name carries the new one, with its value.
      const moved = cs.channelsWith(kind, path).map((c) => [c, valueOn(cs, kind, c, path)] as const);
      stripEverywhere(cs, kind, path);
      cs.putDefinition(kind, path, null);
      for (const [c, v] of moved) setOn(cs, kind, c, name, v);
    }
  }
  cs.putDefinition(kind, name, { name, owner: d.owner });
  for (const [channel, value] of d.channels) setOn(cs, kind, channel, name, value);
  return { kind: 'definition', type: kind, name, channels: [...d.channels.keys()] };
}

/** `POST /{kind}`: merge each definition of the list. */
export function postDefinitions(cs: Changeset, p: Principal | null, kind: Kind, list: readonly DefBody[]): WriteResult {
  return eachDefinition(cs, p, kind, list, 'update', postDefinition);
}

/** `PUT /{kind}/{name}/{channel}`: add it to one channel (a property body carries the value; a tag needs none). */
export function putOnChannel(cs: Changeset, p: Principal | null, kind: Kind, name: string, channel: string, body: PropertyBody | undefined): WriteResult {
  const user = requireRole(p, ROLE[kind], `add ${kind} ${name} to channel ${channel}`);
  if (!cs.exists(channel)) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(channel)} does not exist`);
  let value: string | null = null;
  if (kind === 'property') {
    if (body?.name !== name || body.value === undefined || body.value === null || body.value === '') {
      throw new PvsError('PVS_BAD_REQUEST', `the payload property must be named ${JSON.stringify(name)} and carry a non-empty value`);
    }
    value = body.value;
  }
  const def = cs.definition(kind, name);
  if (def === undefined) throw new PvsError('PVS_NOT_FOUND', `${kind} ${JSON.stringify(name)} does not exist`);
  requireOwner(user, def.owner, `${kind} ${name}`);
  setOn(cs, kind, channel, name, value);
  return { kind: 'single', type: kind, name, channel, value };
}

/** `DELETE /{kind}/{name}`: remove the definition and strip it from every channel. */
export function deleteDefinition(cs: Changeset, p: Principal | null, kind: Kind, name: string): WriteResult {
  const user = requireRole(p, ROLE[kind], `delete ${kind} ${name}`);
  const def = cs.definition(kind, name);
  if (def === undefined) throw new PvsError('PVS_NOT_FOUND', `${kind} ${JSON.stringify(name)} does not exist`);
  requireOwner(user, def.owner, `${kind} ${name}`);
  cs.putDefinition(kind, name, null);
  stripEverywhere(cs, kind, name);
  return { kind: 'empty' };
}

/** `DELETE /{kind}/{name}/{channel}`: remove it from one channel. */
export function deleteFromChannel(cs: Changeset, p: Principal | null, kind: Kind, name: string, channel: string): WriteResult {
  const user = requireRole(p, ROLE[kind], `remove ${kind} ${name} from channel ${channel}`);
  const def = cs.definition(kind, name);
  if (def === undefined) throw new PvsError('PVS_NOT_FOUND', `${kind} ${JSON.stringify(name)} does not exist`);
  requireOwner(user, def.owner, `${kind} ${name}`);
  if (!cs.exists(channel)) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(channel)} does not exist`);
  setOn(cs, kind, channel, name, undefined);
  return { kind: 'empty' };
}
