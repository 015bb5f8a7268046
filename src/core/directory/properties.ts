/**
 * The properties of a derived channel (recceiver conventions, docs/api.md): their names, their order in a channel,
 * and how each is read from the channel's winning record and IOC. One catalogue serves both output and filtering.
 */
import type { ChannelSlot, IocNode, RecordNode } from './nodes.js';

/**
 * One property: its exact name and its value on a channel (undefined = the channel lacks it). `ofIoc` is set
 * when the value depends on the winning IOC alone, so that a filter on it can start from the matching IOCs.
 */
export interface PropertySource {
  readonly name: string;
  readonly get: (slot: ChannelSlot) => string | undefined;
  readonly ofIoc?: (ioc: IocNode) => string | undefined;
  /** True when the values are interned strings shared by many channels (worth caching their JSON form). */
  readonly interned?: boolean;
}

// A managed property reads the winning record; a channel no IOC serves carries what was written through the API.
function iocLevel(name: string, ofIoc: (ioc: IocNode) => string | undefined): PropertySource {
  return { name, ofIoc, get: (s) => (s.win === null ? apiValue(s, name) : ofIoc(s.win.ioc)) };
}

function ofRecord(name: string, get: (s: ChannelSlot & { win: RecordNode }) => string | undefined, interned = false): PropertySource {
  return { name, interned, get: (s) => (s.win === null ? apiValue(s, name) : get(s as ChannelSlot & { win: RecordNode })) };
}

function apiValue(s: ChannelSlot, name: string): string | undefined {
  return s.api === null ? undefined : s.api.prop(name);
}

/** A property defined through the API: on IOC channels too (user additions), never shadowing a managed one. */
export function userProperty(name: string): PropertySource {
  return { name, get: (s) => apiValue(s, name) };
}

// ChannelFinder refuses empty property values: an empty string means "absent".
const v = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

const MANAGED: readonly PropertySource[] = [
  iocLevel('hostName', (i) => v(i.info?.hostName)),
  iocLevel('iocName', (i) => v(i.info?.iocName)),
  iocLevel('iocid', (i) => i.id),
  iocLevel('iocIP', (i) => v(i.info?.iocIP)),
  ofRecord('pvStatus', (s) => (s.win.active ? 'Active' : 'Inactive'), true),
  iocLevel('time', (i) => v(i.info?.updatedAt)),
  iocLevel('recceiverID', (i) => v(i.info?.writer)),
  ofRecord('recordType', (s) => v(s.win.type), true),
  ofRecord('recordDesc', (s) => v(s.win.desc)),
  ofRecord('alias', (s) => (s.isAlias ? s.win.name : undefined)),
  ofRecord('recordFile', (s) => v(s.win.file), true),
  ofRecord('recordLine', (s) => (s.win.line > 0 ? String(s.win.line) : undefined)),
  iocLevel('caPort', (i) => v(i.info?.env['RSRV_SERVER_PORT'])),
  iocLevel('pvaPort', (i) => v(i.info?.env['PVAS_SERVER_PORT'])),
  // Only with several installations (installations.yml): where the channel's data are written.
  iocLevel('installation', (i) => v(i.info?.installation)),
];

/** Names of the properties pvsync manages itself (info-tag properties come on top). */
export const MANAGED_PROPERTY_NAMES: readonly string[] = MANAGED.map((p) => p.name);

/**
 * The full catalogue for an info-tag whitelist and an environment mapping (the recceiver's `environment_vars`:
 * IOC environment variable → property name, read from the IOC's published env); a name that collides with a
 * managed one (or an earlier one) is dropped.
 */
export function propertyCatalogue(infoWhitelist: readonly string[], envProperties: Readonly<Record<string, string>> = {}): readonly PropertySource[] {
  const taken = new Set(MANAGED_PROPERTY_NAMES);
  const envs: PropertySource[] = [];
  for (const [variable, name] of Object.entries(envProperties)) {
    if (name === '' || taken.has(name)) continue;
    taken.add(name);
    envs.push(iocLevel(name, (i) => v(i.info?.env[variable])));
  }
  const infos = [...new Set(infoWhitelist)].filter((k) => k !== '' && !taken.has(k));
  return [...MANAGED, ...envs, ...infos.map((key) => ofRecord(key, (s) => infoValue(s.win.infos, key), true))];
}

function infoValue(infos: readonly string[], key: string): string | undefined {
  for (let i = 0; i < infos.length; i += 2) {
    if (infos[i] === key) return v(infos[i + 1]);
  }
  return undefined;
}
