import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { Keyspace } from '../../../src/core/keyspace.js';
import type { StoredChannel } from '../../../src/core/model.js';
import { parseChannelQuery } from '../../../src/core/query/parse-query.js';
import { Changeset } from '../../../src/core/writes/changeset.js';
import { alive, info, rec } from '../directory/build-events.js';

const A = 'IOCA@h';
const ch = (name: string, over: Partial<StoredChannel> = {}, modRevision = 5): DirectoryEvent =>
  ({ kind: 'channel', name, modRevision, value: { name, owner: 'alice', properties: [], tags: [], ...over } });
const def = (kind: 'propertyDef' | 'tagDef', name: string, owner = 'alice', modRevision = 3): DirectoryEvent =>
  ({ kind, name, modRevision, value: { name, owner } });

function dir(changes: [number, readonly string[] | null][] = []): Directory {
  const d = new Directory({ owner: 'cf', onApplied: (r, n) => changes.push([r, n]) });
  d.apply([info(A), alive(A), rec(A, 'IOC:1', { aliases: ['IOC:1:AL'] })], 10);
  return d;
}

describe('directory: channels written through the API', () => {
  it('shows API channels as written, nested owners from the definitions, hiding undefined names', () => {
    const d = dir();
    d.apply([def('propertyDef', 'color', 'bob'), def('tagDef', 'hot'),
      ch('API:1', { properties: [{ name: 'color', value: 'red' }, { name: 'gone', value: 'x' }], tags: ['hot', 'cold'] })], 11);
    expect(d.get('API:1')).toEqual({ name: 'API:1', owner: 'alice',
      properties: [{ name: 'color', owner: 'bob', value: 'red', channels: [] }], tags: [{ name: 'hot', owner: 'alice', channels: [] }] });
    expect(d.search(parseChannelQuery({ '~tag': 'hot' })).channels.map((c) => c.name)).toEqual(['API:1']);
    expect(d.search(parseChannelQuery({ color: 'RED' })).channels.map((c) => c.name)).toEqual(['API:1']);
    expect(d.search(parseChannelQuery({ gone: '*' })).channels).toEqual([]);
    expect(d.propertyNames()).toContain('color');
    expect(d.tagNames()).toEqual(['hot']);
    d.apply([{ kind: 'tagDef', name: 'hot', value: null, modRevision: 0 }], 12);
    expect(d.get('API:1')?.tags).toEqual([]);
  });

  it('merges user additions into IOC channels; managed properties stay derived; both survive each other', () => {
    const d = dir();
    d.apply([def('propertyDef', 'note'), ch('IOC:1', { owner: 'alice', properties: [{ name: 'note', value: 'n' }, { name: 'hostName', value: 'bogus' }] })], 11);
    const c = d.get('IOC:1');
    expect(c?.owner).toBe('alice');
    expect(c?.properties.find((p) => p.name === 'hostName')?.value).toBe('h');
    expect(c?.properties.at(-1)).toEqual({ name: 'note', owner: 'alice', value: 'n', channels: [] });
    expect(d.search(parseChannelQuery({ hostName: 'bogus' })).channels).toEqual([]);
    // The record goes away: the channel stays as written through the API.
    d.apply([{ kind: 'record', iocId: A, name: 'IOC:1', value: null }], 12);
    expect(d.servedByIoc('IOC:1')).toBe(false);
    expect(d.get('IOC:1')?.properties.map((p) => [p.name, p.value])).toEqual([['note', 'n'], ['hostName', 'bogus']]);
    expect(d.search(parseChannelQuery({ hostName: 'bogus' })).channels.map((x) => x.name)).toEqual(['IOC:1']);
    // and comes back: the additions are kept.
    d.apply([rec(A, 'IOC:1')], 13);
    expect(d.get('IOC:1')?.properties.find((p) => p.name === 'hostName')?.value).toBe('h');
    expect(d.get('IOC:1')?.properties.find((p) => p.name === 'note')?.value).toBe('n');
  });

  it('IOC-level filters also find API channels carrying the property', () => {
    const d = new Directory();
    const events: DirectoryEvent[] = [info(A), alive(A)];
    for (let i = 0; i < 600; i++) events.push(rec(A, `R:${i}`));
    d.apply(events, 10);
    d.apply([ch('API:X', { properties: [{ name: 'iocName', value: 'IOCA' }] })], 11);
    expect(d.count(parseChannelQuery({ iocName: 'IOCA' }))).toBe(601);
  });

  it('reports the changed names of each revision, and null after a snapshot', () => {
    const changes: [number, readonly string[] | null][] = [];
    const d = dir(changes);
    d.apply([ch('API:1')], 11);
    d.apply([alive(A, false)], 12);
    d.apply([def('tagDef', 'hot'), ch('API:2', { tags: ['hot'] })], 13);
    d.apply([def('tagDef', 'hot', 'bob', 14)], 14);
    d.clear();
    d.apply([], 15);
    expect(changes).toEqual([[10, null], [11, ['API:1']], [12, ['IOC:1', 'IOC:1:AL']], [13, ['API:2']], [14, ['API:2']], [15, null]]);
  });

  it('reports "anything changed" when a managed property is defined anew (its owner restyles every IOC channel)', () => {
    const changes: [number, readonly string[] | null][] = [];
    const d = dir(changes);
    d.apply([def('propertyDef', 'hostName', 'ops', 11)], 11);
    expect(d.get('IOC:1')?.properties.find((p) => p.name === 'hostName')?.owner).toBe('ops');
    d.apply([def('propertyDef', 'note', 'ops', 12)], 12);
    expect(changes).toEqual([[10, null], [11, null], [12, []]]);
  });
});

describe('Changeset', () => {
  const keys = new Keyspace('/t/');
  it('guards each key with the revision the directory saw, defs first, and leaves out no-ops', () => {
    const d = dir();
    d.apply([def('propertyDef', 'color', 'alice', 7), ch('API:1', { properties: [{ name: 'color', value: 'red' }] }, 9)], 11);
    const cs = new Changeset(d, keys);
    cs.putChannel({ name: 'API:1', owner: 'alice', properties: [{ name: 'color', value: 'red' }], tags: [] });
    expect(cs.ops()).toEqual([]);
    cs.putChannel({ name: 'API:1', owner: 'alice', properties: [{ name: 'color', value: 'red' }, { name: 'color', value: 'blue' }], tags: ['t', 't'] });
    cs.putChannel({ name: 'IOC:1', owner: 'cf', properties: [{ name: 'pvStatus', value: 'x' }, { name: 'color', value: 'c' }], tags: [] });
    cs.deleteChannel('NEVER');
    cs.putDefinition('tag', 't', { name: 't', owner: 'alice' });
    cs.putDefinition('property', 'color', null);
    expect(cs.ops()).toEqual([
      { key: '/t/defs/properties/color', value: null, expect: 7 },
      { key: '/t/defs/tags/t', value: '{"name":"t","owner":"alice"}', expect: 0 },
      { key: '/t/channels/API:1', value: '{"name":"API:1","owner":"alice","properties":[{"name":"color","value":"blue"}],"tags":["t"]}', expect: 9 },
      { key: '/t/channels/IOC:1', value: '{"name":"IOC:1","owner":"cf","properties":[{"name":"color","value":"c"}],"tags":[]}', expect: 0 },
    ]);
    expect(cs.channelsWith('property', 'color')).toEqual(['API:1', 'IOC:1']);
  });
});
