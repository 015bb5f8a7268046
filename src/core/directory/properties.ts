/**
 * The properties of a derived channel (recceiver conventions, docs/api.md): their names, their order in a channel,
 * and how each is read from the channel's winning record and IOC. One catalogue serves both output and filtering.
 */
import type { ChannelSlot } from './nodes.js';

/** One property: its exact name and its value on a channel (undefined = the channel lacks it). */
export interface PropertySource {
  readonly name: string;
  readonly get: (slot: ChannelSlot) => string | undefined;
}

// ChannelFinder refuses empty property values: an empty string means "absent".
const v = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

const MANAGED: readonly PropertySource[] = [
  { name: 'hostName', get: (s) => v(s.win.ioc.info?.hostName) },
  { name: 'iocName', get: (s) => v(s.win.ioc.info?.iocName) },
  { name: 'iocid', get: (s) => s.win.ioc.id },
  { name: 'iocIP', get: (s) => v(s.win.ioc.info?.iocIP) },
  { name: 'pvStatus', get: (s) => (s.win.active ? 'Active' : 'Inactive') },
  { name: 'time', get: (s) => v(s.win.ioc.info?.updatedAt) },
  { name: 'recceiverID', get: (s) => v(s.win.ioc.info?.writer) },
  { name: 'recordType', get: (s) => v(s.win.type) },
  { name: 'recordDesc', get: (s) => v(s.win.desc) },
  { name: 'alias', get: (s) => (s.isAlias ? s.win.name : undefined) },
  { name: 'caPort', get: (s) => v(s.win.ioc.info?.env['RSRV_SERVER_PORT']) },
  { name: 'pvaPort', get: (s) => v(s.win.ioc.info?.env['PVAS_SERVER_PORT']) },
];

/** Names of the properties pvsync manages itself (info-tag properties come on top). */
export const MANAGED_PROPERTY_NAMES: readonly string[] = MANAGED.map((p) => p.name);

/** The full catalogue for an info-tag whitelist; a whitelisted key that collides with a managed name is dropped. */
export function propertyCatalogue(infoWhitelist: readonly string[]): readonly PropertySource[] {
  const managed = new Set(MANAGED_PROPERTY_NAMES);
  const infos = [...new Set(infoWhitelist)].filter((k) => k !== '' && !managed.has(k));
  return [...MANAGED, ...infos.map((key): PropertySource => ({ name: key, get: (s) => infoValue(s.win.infos, key) }))];
}

function infoValue(infos: readonly string[], key: string): string | undefined {
  for (let i = 0; i < infos.length; i += 2) {
    if (infos[i] === key) return v(infos[i + 1]);
  }
  return undefined;
}
