/** Builds the ChannelFinder JSON of one channel slot: only for the channels of a returned page. */
import type { CfChannel, CfProperty } from '../model.js';
import type { ChannelSlot } from './nodes.js';
import type { PropertySource } from './properties.js';

/** The CfChannel of a slot: every catalogue property the channel has, in catalogue order, all owned by `owner`. */
export function toCfChannel(slot: ChannelSlot, catalogue: readonly PropertySource[], owner: string): CfChannel {
  const properties: CfProperty[] = [];
  for (const p of catalogue) {
    const value = p.get(slot);
    if (value !== undefined) properties.push({ name: p.name, owner, value, channels: [] });
  }
  return { name: slot.name, owner, properties, tags: [] };
}
