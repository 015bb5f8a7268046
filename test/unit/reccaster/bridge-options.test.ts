// `pvsync bridge` options: defaults, and a clear PVS_CONFIG error naming the flag for every bad value.
import { describe, expect, it } from 'vitest';
import { bridgeConfig, type BridgeFlags } from '../../../src/apps/commands/bridge.js';

const base: BridgeFlags = {
  bind: '0.0.0.0:0', announceInterval: '15', ttl: '10', pingInterval: '5', frameTimeout: '15', maxConnections: '4096', maxPerPeer: '512',
};

describe('pvsync bridge options', () => {
  it('defaults: any port, the broadcast address on 5049, claim wait TTL + 2 s', () => {
    const c = bridgeConfig(base);
    expect(c).toMatchObject({ host: '0.0.0.0', port: 0, announce: [{ host: '255.255.255.255', port: 5049 }], ttlSeconds: 10, claimWaitMs: 12_000, pingIntervalMs: 5000 });
    expect(c.name).toMatch(/^bridge@/);
    expect(bridgeConfig({ ...base, bind: '127.0.0.1:5100' }).announce).toEqual([{ host: '127.255.255.255', port: 5049 }]);
    expect(bridgeConfig({ ...base, name: 'b1', announce: ['10.0.0.255:5049', '127.255.255.255:25049'] })).toMatchObject({
      name: 'b1', announce: [{ host: '10.0.0.255', port: 5049 }, { host: '127.255.255.255', port: 25049 }],
    });
  });

  it.each([
    [{ bind: 'localhost:5000' }, /--bind must be IPv4-ADDRESS:PORT/],
    [{ bind: '1.2.3.400:5000' }, /--bind/],
    [{ announce: ['1.2.3.4:0'] }, /--announce must be/],
    [{ announce: ['1.2.3.4'] }, /--announce must be/],
    [{ ttl: '0' }, /--ttl must be a duration in seconds ≥ 1/],
    [{ announceInterval: 'x' }, /--announce-interval/],
    [{ pingInterval: '-1' }, /--ping-interval/],
    [{ frameTimeout: '0' }, /--frame-timeout/],
    [{ claimWait: 'soon' }, /--claim-wait/],
    [{ maxConnections: '1.5' }, /--max-connections must be an integer ≥ 1/],
    [{ maxPerPeer: '0' }, /--max-per-peer/],
  ] as [Partial<BridgeFlags>, RegExp][])('refuses %j', (over, message) => {
    expect(() => bridgeConfig({ ...base, ...over })).toThrow(message);
    try {
      bridgeConfig({ ...base, ...over });
    } catch (err) {
      expect((err as { code?: string }).code).toBe('PVS_CONFIG');
    }
  });
});
