/**
 * Random changes of a test keyspace as the uploader and the API make them, for the relational-mirror tests: IOC
 * uploads (info, records with aliases and archive tags, liveness key), IOC deaths, record removals, and API writes
 * (properties and tags on IOC channels, API-only channels) through a real replica.
 */
import type { Etcd3 } from 'etcd3';
import type { Keyspace } from '../../src/core/keyspace.js';
import { basic, type Replica } from './api-replica.js';

const R = '/ChannelFinder/resources';

/** A seeded pseudo-random generator (tests are reproducible). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Drives one keyspace; every method returns the etcd revision of its last write. */
export class SyncWorkload {
  private readonly rand: () => number;
  private readonly alive = new Set<string>();
  private seq = 0;

  constructor(private readonly client: Etcd3, private readonly keys: Keyspace, private readonly replica: Replica | null, seed: number) {
    this.rand = rng(seed);
  }

  private pick(n: number): number {
    return Math.floor(this.rand() * n);
  }

  /** Upload IOC `n` with `records` records (some aliased, some with an archive tag) and mark it alive. */
  async upload(n: number, records: number): Promise<number> {
    const id = `ioc${n}@host${n % 3}`;
    const now = new Date().toISOString();
    const upload = `u${++this.seq}`;
    await this.client.put(this.keys.iocInfo(id)).value(JSON.stringify({ schema: 1, iocId: id, iocName: `ioc${n}`, hostName: `host${n % 3}`,
      iocIP: `10.0.0.${n}`, env: { RSRV_SERVER_PORT: '5064' }, uploadId: upload, state: 'complete', records, updatedAt: now, writer: 'test' }));
    for (let i = 0; i < records; i += 100) {
      const txn = this.client.if(this.keys.iocInfo(id), 'Create', '>', 0);
      const ops = [];
      for (let j = i; j < Math.min(records, i + 100); j++) {
        // Names overlap between IOCs now and then: the winner rule decides, as in the API.
        const name = `SYS${this.pick(3)}:IOC${this.pick(4) === 0 ? this.pick(6) : n}:PV${j}`;
        const rec = {
          name, type: ['ai', 'ao', 'bi', 'calc'][this.pick(4)], desc: this.pick(3) === 0 ? '' : `desc ${j} of ${n}`,
          infos: this.pick(2) === 0 ? { archive: ['monitor 1.0', 'scan@10', 'default'][this.pick(3)] } : {},
          aliases: this.pick(5) === 0 ? [`${name}:ALIAS`] : [], file: `/ioc/${n}/db/x.db`, line: j + 1,
        };
        ops.push(this.client.put(this.keys.iocRecord(id, name)).value(JSON.stringify(rec)));
      }
      await txn.then(...ops).commit();
    }
    const res = await this.client.put(this.keys.alive(id)).value(JSON.stringify({ uploadId: upload, since: now, writer: 'test' }));
    this.alive.add(id);
    return Number(res.header.revision);
  }

  /** An IOC dies: its liveness key goes (its channels turn Inactive). */
  async kill(n: number): Promise<number> {
    const id = `ioc${n}@host${n % 3}`;
    const res = await this.client.delete().key(this.keys.alive(id)).exec();
    this.alive.delete(id);
    return Number(res.header.revision);
  }

  /** Records of IOC `n` removed from etcd (a re-upload without them). */
  async removeRecords(n: number, prefix: string): Promise<number> {
    const res = await this.client.delete().prefix(`${this.keys.iocRecordsPrefix(`ioc${n}@host${n % 3}`)}${prefix}`).exec();
    return Number(res.header.revision);
  }

  /** API writes through the replica: a property and a tag on channels, and API-only channels. */
  async apiWrites(names: readonly string[]): Promise<number> {
    const r = this.replica;
    if (r === null) throw new Error('no replica');
    const call = async (method: 'PUT' | 'POST', url: string, payload: unknown): Promise<void> => {
      const res = await r.app.inject({ method, url, headers: { authorization: basic('admin') }, payload: payload as object });
      if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    };
    await call('PUT', `${R}/properties/location`, { name: 'location', owner: 'admin' });
    await call('PUT', `${R}/tags/golden`, { name: 'golden', owner: 'admin' });
    for (const name of names) {
      await call('PUT', `${R}/properties/location/${encodeURIComponent(name)}`, { name: 'location', owner: 'admin', value: `rack ${this.pick(9)}` });
      if (this.pick(2) === 0) await call('PUT', `${R}/tags/golden/${encodeURIComponent(name)}`, { name: 'golden', owner: 'admin' });
    }
    const own = `API:ONLY:${++this.seq}`;
    await call('PUT', `${R}/channels/${encodeURIComponent(own)}`, { name: own, owner: 'admin',
      properties: [{ name: 'location', owner: 'admin', value: 'nowhere' }], tags: [{ name: 'golden', owner: 'admin' }] });
    const rev = await this.client.get(this.keys.root).exec();
    return Number(rev.header.revision);
  }
}
