// IOC environment variables mapped to channel properties (the recceiver's environment_vars), for any IOC that
// publishes its env: the uploader's and the RecCaster bridge's alike.
import { describe, expect, it } from 'vitest';
import { Derivation } from '../../../src/core/directory/derivation.js';
import { alive, info, rec } from './build-events.js';

describe('environment properties', () => {
  it('publishes mapped variables of the winning IOC, after the managed properties and before info tags', () => {
    const d = new Derivation({ infoWhitelist: ['archive'], envProperties: { ENGINEER: 'Engineer', LOCATION: 'Location', IOC: 'iocName' } });
    d.apply([info('a@h', { env: { ENGINEER: 'A. Person', LOCATION: '' } }), alive('a@h'), rec('a@h', 'X', { infos: { archive: 'monitor' } })], 1);
    const props = d.get('X')!.properties.map((p) => [p.name, p.value]);
    expect(props.filter(([n]) => ['Engineer', 'Location', 'archive', 'iocName'].includes(n!))).toEqual([
      ['iocName', 'a'], ['Engineer', 'A. Person'], ['archive', 'monitor'], // empty LOCATION is absent; IOC cannot shadow iocName
    ]);
    expect(d.isManagedProperty('Engineer')).toBe(true);
  });
});
