/**
 * The properties of a derived channel (recceiver conventions, docs/api.md): their names, their order in a channel,
 * and how each is read from the channel's winning record and IOC. One catalogue serves both output and filtering.
 */
import type { ChannelSlot, IocNode } from './nodes.js';

/**
 * One property: its exact name and its value on a channel (undefined = the channel lacks it). `ofIoc` is set
 * when the value depends on the winning IOC alone, so that a filter on it can start from the matching IOCs.
 */
export interface PropertySource {
  readonly name: string;
  readonly get: (slot: ChannelSlot) => string | undefined;
  readonly ofIoc?: (ioc: IocNode) => string | undefined;
}

function iocLevel(name: string, ofIoc: (ioc: IocNode) => string | undefined): PropertySource {
  return { name, ofIoc, get: (s) => ofIoc(s.win.ioc) };
}

// ChannelFinder refuses empty property values: an empty string means "absent".
const v = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

const MANAGED: readonly PropertySource[] = [
  iocLevel('hostName', (i) => v(i.info?.hostName)),
  iocLevel('iocName', (i) => v(i.info?.iocName)),
  iocLevel('iocid', (i) => i.id),
  iocLevel('iocIP', (i) => v(i.info?.iocIP)),
  { name: 'pvStatus', get: (s) => (s.win.active ? 'Active' : 'Inactive') },
  iocLevel('time', (i) => v(i.info?.updatedAt)),
  iocLevel('recceiverID', (i) => v(i.info?.writer)),
  { name: 'recordType', get: (s) => v(s.win.type) },
  { name: 'recordDesc', get: (s) => v(s.win.desc) },
  { name: 'alias', get: (s) => (s.isAlias ? s.win.name : undefined) },
  iocLevel('caPort', (i) => v(i.info?.env['RSRV_SERVER_PORT'])),
  iocLevel('pvaPort', (i) => v(i.info?.env['PVAS_SERVER_PORT'])),
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
