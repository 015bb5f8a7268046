import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import type { CfChannel } from '../../../src/core/model.js';
import { parseChannelQuery } from '../../../src/core/query/parse-query.js';
import { alive, info, rec } from './build-events.js';

const A = 'IOCA@host-a';
const props = (ch: CfChannel | undefined): [string, string | null][] => (ch?.properties ?? []).map((p) => [p.name, p.value]);

describe('Directory: where a record is defined', () => {
  it('shows recordFile and recordLine after the record properties, on alias channels too', () => {
    const d = new Directory({ owner: 'cf' });
    d.apply([info(A), alive(A),
      rec(A, 'X:1', { type: 'ao', desc: 'sp', aliases: ['X:1:AL'], file: '/ioc/db/x.db', line: 12, via: ['/ioc/x.substitutions'] }),
      rec(A, 'OLD', { type: 'ai' }), // stored before records carried a place
    ], 3);
    expect(props(d.get('X:1')).slice(-4)).toEqual([
      ['recordType', 'ao'], ['recordDesc', 'sp'], ['recordFile', '/ioc/db/x.db'], ['recordLine', '12'],
    ]);
    expect(props(d.get('X:1:AL')).slice(-3)).toEqual([['alias', 'X:1'], ['recordFile', '/ioc/db/x.db'], ['recordLine', '12']]);
    expect(props(d.get('OLD')).map(([n]) => n)).not.toContain('recordFile');
    expect(d.search(parseChannelQuery({ recordFile: '*/x.db' })).channels.map((c) => c.name)).toEqual(['X:1', 'X:1:AL']);
    expect(d.search(parseChannelQuery({ recordLine: '12', '~name': 'X:1' })).channels.map((c) => c.name)).toEqual(['X:1']);
    expect(d.propertyNames()).toEqual(expect.arrayContaining(['recordFile', 'recordLine']) as unknown);
  });
});
