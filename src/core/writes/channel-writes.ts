/**
 * The channel write rules of ChannelFinder (`/resources/channels`): PUT replaces, POST merges (a different body
 * name renames), DELETE removes; the list forms do the same per channel. Checks come in upstream's order: role,
 * body, ownership. On IOC channels only the user additions are written: managed properties stay the system's, and
 * DELETE removes the additions (the IOC still serves the channel).
 */
import { PvsError } from '../errors.js';
import type { StoredChannel } from '../model.js';
import { requireOwner, requireRole, type Principal } from '../auth/principal.js';
import { required, type ChannelBody } from './bodies.js';
import type { Changeset } from './changeset.js';

/** What a write answers with, rendered from the directory once this replica has applied the write. */
export type WriteResult =
  | { readonly kind: 'channel'; readonly name: string }
  | { readonly kind: 'channels'; readonly names: readonly string[] }
  | { readonly kind: 'definition'; readonly type: 'property' | 'tag'; readonly name: string; readonly channels: readonly string[] }
  | { readonly kind: 'definitions'; readonly type: 'property' | 'tag'; readonly names: readonly string[] }
  | { readonly kind: 'single'; readonly type: 'property' | 'tag'; readonly name: string; readonly channel: string; readonly value: string | null }
  | { readonly kind: 'empty' };

/** Check a channel body as upstream does (400 empty name/owner/value, 404 unknown property/tag); returns it stored. */
export function validChannel(cs: Changeset, ch: ChannelBody): StoredChannel {
  const name = required(ch.name, 'channel name');
  const owner = required(ch.owner, `owner of channel ${name}`);
  const tags: string[] = [];
  for (const t of ch.tags ?? []) {
    const tn = required(t.name, `tag name on channel ${name}`);
    if (cs.definition('tag', tn) === undefined) throw new PvsError('PVS_NOT_FOUND', `tag ${JSON.stringify(tn)} does not exist`);
    tags.push(tn);
  }
  const props = (ch.properties ?? []).map((p) => ({ name: required(p.name, `property name on channel ${name}`), value: p.value }));
  for (const p of props) {
    if (cs.definition('property', p.name) === undefined) throw new PvsError('PVS_NOT_FOUND', `property ${JSON.stringify(p.name)} does not exist`);
  }
  const properties = props.map((p) => ({ name: p.name, value: required(p.value, `value of property ${p.name} on channel ${name}`) }));
  return { name, owner, properties, tags };
}

/** Merge `add` into `base` as upstream's addProperties/addTags: same-named properties replaced, tags added once. */
export function mergeInto(base: StoredChannel, add: StoredChannel, owner: string): StoredChannel {
  const props = base.properties.filter((p) => !add.properties.some((q) => q.name === p.name));
  const tags = base.tags.filter((t) => !add.tags.includes(t));
  return { name: base.name, owner, properties: [...props, ...add.properties], tags: [...tags, ...add.tags] };
}

/** `PUT /channels/{name}`: create or replace; a different body name replaces `path` by the body's channel. */
export function putChannel(cs: Changeset, p: Principal | null, path: string, body: ChannelBody): WriteResult {
  const user = requireRole(p, 'CHANNEL', `create channel ${path}`);
  const ch = validChannel(cs, body);
  requireOwner(user, ch.owner, `channel ${ch.name}`);
  const existing = cs.ownerOf(path);
  if (existing !== undefined) {
    requireOwner(user, existing, `channel ${path}`);
    cs.deleteChannel(path);
  }
  cs.putChannel(ch);
  return { kind: 'channel', name: ch.name };
}

/** `PUT /channels`: create or replace each; an existing channel keeps its owner. */
export function putChannels(cs: Changeset, p: Principal | null, list: readonly ChannelBody[]): WriteResult {
  const user = requireRole(p, 'CHANNEL', 'create channels');
  const out: StoredChannel[] = [];
  for (const body of list) {
    const name = required(body.name, 'channel name');
    const existing = cs.ownerOf(name);
    if (existing !== undefined) requireOwner(user, existing, `channel ${name}`);
    else requireOwner(user, required(body.owner, `owner of channel ${name}`), `channel ${name}`);
    out.push({ ...validChannel(cs, { ...body, owner: existing ?? body.owner }) });
  }
  for (const ch of out) cs.putChannel(ch);
  return { kind: 'channels', names: [...new Set(out.map((c) => c.name))] };
}

/** `POST /channels/{name}`: merge into the existing channel (owner from the body); a different name renames. */
export function postChannel(cs: Changeset, p: Principal | null, path: string, body: ChannelBody): WriteResult {
  const user = requireRole(p, 'CHANNEL', `update channel ${path}`);
  const ch = validChannel(cs, body);
  requireOwner(user, ch.owner, `channel ${ch.name}`);
  const existingOwner = cs.ownerOf(path);
  if (existingOwner === undefined) {
    cs.putChannel(ch);
    return { kind: 'channel', name: ch.name };
  }
  requireOwner(user, existingOwner, `channel ${path}`);
  // Upstream compares names case-insensitively here: `POST /a` with body name `A` merges into `a`.
  if (ch.name.toLowerCase() === path.toLowerCase()) {
    const base = cs.editable(path) as StoredChannel;
    cs.putChannel(mergeInto(base, { ...ch, name: path }, ch.owner));
    return { kind: 'channel', name: path };
  }
  // A rename: the whole channel as it reads now (managed properties included) moves to the new name.
  const shown = cs.view.get(path);
  const base: StoredChannel = shown === undefined
    ? (cs.editable(path) as StoredChannel)
    : { name: path, owner: shown.owner, properties: shown.properties.map((q) => ({ name: q.name, value: q.value ?? '' })).filter((q) => q.value !== ''), tags: shown.tags.map((t) => t.name) };
  cs.deleteChannel(path);
  cs.putChannel(mergeInto({ ...base, name: ch.name }, ch, ch.owner));
  return { kind: 'channel', name: ch.name };
}

/** `POST /channels`: merge each into its existing channel (keeping the existing owner), or create it. */
export function postChannels(cs: Changeset, p: Principal | null, list: readonly ChannelBody[]): WriteResult {
  const user = requireRole(p, 'CHANNEL', 'update channels');
  const checked: { ch: StoredChannel; existing: boolean }[] = [];
  for (const body of list) {
    const name = required(body.name, 'channel name');
    const existing = cs.ownerOf(name);
    if (existing !== undefined) requireOwner(user, existing, `channel ${name}`);
    else requireOwner(user, required(body.owner, `owner of channel ${name}`), `channel ${name}`);
    checked.push({ ch: validChannel(cs, { ...body, owner: existing ?? body.owner }), existing: existing !== undefined });
  }
  for (const { ch } of checked) {
    const base = cs.editable(ch.name);
    cs.putChannel(base === null ? ch : mergeInto(base, ch, ch.owner));
  }
  return { kind: 'channels', names: [...new Set(checked.map((c) => c.ch.name))] };
}

/** `DELETE /channels/{name}` and the list form: 404 for an unknown channel, 401 unless owned. */
export function deleteChannels(cs: Changeset, p: Principal | null, names: readonly string[]): WriteResult {
  const user = requireRole(p, 'CHANNEL', 'delete channels');
  for (const raw of names) {
    const name = required(raw, 'channel name');
    const owner = cs.ownerOf(name);
    if (owner === undefined) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(name)} does not exist`);
    requireOwner(user, owner, `channel ${name}`);
    cs.deleteChannel(name);
  }
  return { kind: 'empty' };
}
