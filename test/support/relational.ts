/**
 * Reading the relational mirror back for tests and comparing it with what the ChannelFinder API shows: every channel
 * one pv row (columns from its properties), every property and tag one row, nothing else.
 */
import type { FastifyInstance } from 'fastify';
import mariadb, { type Connection } from 'mariadb';
import type { CfChannel } from '../../src/core/model.js';
import { parseDbUrl } from '../../src/core/relational/db-url.js';

/** A channel as the mirror holds it. */
export interface MirrorChannel {
  readonly cols: Record<string, unknown>;
  readonly properties: Record<string, string>;
  readonly tags: string[];
}

/** A connection to the database of a `mariadb://` URL. */
export function connect(url: string): Promise<Connection> {
  const t = parseDbUrl(url);
  return mariadb.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database,
    connectTimeout: 5000, bigIntAsNumber: true, dateStrings: true });
}

/** `sync_state` as numbers. */
export async function syncState(conn: Connection): Promise<{ revision: number; fencing_token: number; writer: string }> {
  let rows: { revision: number; fencing_token: number; writer: string }[];
  try {
    rows = await conn.query('SELECT revision, fencing_token, writer FROM sync_state WHERE id = 1') as typeof rows;
  } catch (err) {
    // Not migrated yet: the writer has not started.
    if ((err as { errno?: number }).errno === 1146) return { revision: 0, fencing_token: 0, writer: '' };
    throw err;
  }
  // Between the migration's CREATE TABLE and its INSERT of row 1.
  return rows[0] ?? { revision: 0, fencing_token: 0, writer: '' };
}

/** Every channel in the mirror, by name. */
export async function readMirror(conn: Connection): Promise<Map<string, MirrorChannel>> {
  const out = new Map<string, MirrorChannel>();
  const pv = await conn.query('SELECT name, ioc_id, record_type, description, status, alias_of, archive, source_file, source_line FROM pv') as Record<string, unknown>[];
  for (const r of pv) {
    const { name, ...cols } = r;
    out.set(String(name), { cols, properties: {}, tags: [] });
  }
  for (const r of await conn.query('SELECT pv_name, name, value FROM pv_property') as { pv_name: string; name: string; value: string }[]) {
    const c = out.get(r.pv_name);
    if (c === undefined) throw new Error(`pv_property row of ${r.pv_name} without a pv row`);
    c.properties[r.name] = r.value;
  }
  for (const r of await conn.query('SELECT pv_name, tag FROM pv_tag') as { pv_name: string; tag: string }[]) {
    const c = out.get(r.pv_name);
    if (c === undefined) throw new Error(`pv_tag row of ${r.pv_name} without a pv row`);
    c.tags.push(r.tag);
  }
  for (const c of out.values()) c.tags.sort();
  return out;
}

/** What the API shows, in the mirror's shape (columns read from the properties as docs/archiver-sync.md says). */
export async function apiView(app: FastifyInstance): Promise<Map<string, MirrorChannel>> {
  const res = await app.inject({ method: 'GET', url: '/ChannelFinder/resources/channels?~size=1000000' });
  if (res.statusCode !== 200) throw new Error(`GET channels: ${res.statusCode}`);
  const out = new Map<string, MirrorChannel>();
  for (const ch of res.json<CfChannel[]>()) {
    const properties: Record<string, string> = {};
    for (const p of ch.properties) if (p.value !== null) properties[p.name] = p.value;
    const status = properties['pvStatus'];
    out.set(ch.name, {
      cols: {
        ioc_id: properties['iocid'] ?? null, record_type: properties['recordType'] ?? null,
        description: properties['recordDesc'] ?? null,
        status: status === 'Active' || status === 'Inactive' ? status : null, alias_of: properties['alias'] ?? null,
        archive: properties['archive'] ?? null, source_file: properties['recordFile'] ?? null,
        source_line: properties['recordLine'] === undefined ? null : Number(properties['recordLine']),
      },
      properties, tags: ch.tags.map((t) => t.name).sort(),
    });
  }
  return out;
}

/** Names whose mirror rows differ from the API (empty when equal), with the first difference of each. */
export function differences(mirror: Map<string, MirrorChannel>, api: Map<string, MirrorChannel>): string[] {
  const out: string[] = [];
  for (const [name, a] of api) {
    const m = mirror.get(name);
    if (m === undefined) out.push(`${name}: missing in the mirror`);
    else if (JSON.stringify(sorted(m)) !== JSON.stringify(sorted(a))) out.push(`${name}: mirror ${JSON.stringify(sorted(m))} api ${JSON.stringify(sorted(a))}`);
  }
  for (const name of mirror.keys()) if (!api.has(name)) out.push(`${name}: in the mirror, not in the API`);
  return out;
}

function sorted(c: MirrorChannel): unknown {
  return { cols: c.cols, properties: Object.fromEntries(Object.entries(c.properties).sort(([a], [b]) => (a < b ? -1 : 1))), tags: c.tags };
}
