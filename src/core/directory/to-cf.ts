/** Builds the ChannelFinder JSON of one channel slot: only for the channels of a returned page. */
import type { CfChannel, CfProperty, CfTag } from '../model.js';
import type { ChannelSlot } from './nodes.js';
import type { PropertySource } from './properties.js';

/** What rendering needs from the directory: the catalogue, owners and which names are defined. */
export interface RenderContext {
  readonly catalogue: readonly PropertySource[];
  /** Owner of IOC channels without an API-written owner. */
  readonly owner: string;
  /** Managed property names (never taken from the API node of an IOC channel). */
  readonly managed: ReadonlySet<string>;
  /** Owner of the definition of a property, or undefined when it is not defined. */
  propertyOwner(name: string): string | undefined;
  /** Owner of the definition of a tag, or undefined when it is not defined. */
  tagOwner(name: string): string | undefined;
}

/**
 * The CfChannel of a slot: for an IOC channel the managed properties in catalogue order, then the user additions;
 * for a channel only written through the API, its properties as written. Nested owners are the definitions' owners;
 * values of properties or tags that are no longer defined are left out.
 */
export function toCfChannel(slot: ChannelSlot, ctx: RenderContext): CfChannel {
  const properties: CfProperty[] = [];
  const ioc = slot.win !== null;
  if (ioc) {
    for (const p of ctx.catalogue) {
      const value = p.get(slot);
      if (value !== undefined) properties.push({ name: p.name, owner: ctx.propertyOwner(p.name) ?? ctx.owner, value, channels: [] });
    }
  }
  const tags: CfTag[] = [];
  const api = slot.api;
  if (api !== null) {
    for (let i = 0; i < api.props.length; i += 2) {
      const name = api.props[i] as string;
      if (ioc && ctx.managed.has(name)) continue;
      const owner = ctx.propertyOwner(name);
      if (owner !== undefined) properties.push({ name, owner, value: api.props[i + 1] as string, channels: [] });
    }
    for (const name of api.tags) {
      const owner = ctx.tagOwner(name);
      if (owner !== undefined) tags.push({ name, owner, channels: [] });
    }
  }
  return { name: slot.name, owner: api?.owner ?? ctx.owner, properties, tags };
}
