import { describe, expect, it } from 'vitest';
import { cidrContains, parseAddress, parseCidr } from '../../../src/core/installations/cidr.js';
import {
  failoverOrder, foreignPrimary, holdersOf, nearestInstallation, parseInstallations, type Installations,
} from '../../../src/core/installations/config.js';

const FILE = {
  installations: {
    linac: { etcd: { endpoints: ['http://10.1.0.5:2379'] }, api: ['http://10.1.0.5:8080'], networks: ['10.1.0.0/16', 'fd00:1::/32'] },
    injector: { etcd: { endpoints: ['http://10.2.0.5:2379'], root: '/site/' }, api: ['http://10.2.0.5:8080'], networks: ['10.0.0.0/8'] },
    office: { etcd: { endpoints: ['http://10.3.0.5:2379'] }, api: ['http://10.3.0.5:8080'] },
  },
  data: {
    iocs: [{ primary: 'linac', replicas: ['injector'] }, { primary: 'injector', replicas: ['linac'] }],
    api: { primary: 'linac', replicas: ['injector'] },
  },
};

function ok(v: unknown): Installations {
  const r = parseInstallations(v);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

describe('CIDR matching', () => {
  it.each([
    ['10.1.2.3', '10.1.0.0/16', true],
    ['10.2.2.3', '10.1.0.0/16', false],
    ['::ffff:10.1.2.3', '10.1.0.0/16', true],
    ['fd00:1::7', 'fd00:1::/32', true],
    ['fd00:2::7', 'fd00:1::/32', false],
    ['10.1.2.3', 'fd00:1::/32', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['0.0.0.1', '0.0.0.0/0', true],
  ])('%s in %s → %s', (addr, net, want) => {
    const c = parseCidr(net);
    expect(c).not.toBeNull();
    expect(cidrContains(c!, addr)).toBe(want);
  });

  it.each(['10.1.0.0/33', '10.1.0/16', '300.1.0.0/8', 'fd00:::1/64', 'x/8', '10.0.0.0/-1'])('refuses %s', (bad) => {
    expect(parseCidr(bad)).toBeNull();
  });

  it('reads IPv6 forms', () => {
    expect(parseAddress('::1')).toEqual({ family: 6, value: 1n });
    expect(parseAddress('fe80::1%eth0')?.family).toBe(6);
    expect(parseAddress('1:2:3:4:5:6:7:8')?.value).toBe(0x00010002000300040005000600070008n);
  });
});

describe('installations.yml', () => {
  it('validates and derives the data locations', () => {
    const cfg = ok(FILE);
    expect(cfg.installations.map((i) => i.name)).toEqual(['linac', 'injector', 'office']);
    expect(cfg.installations[0]!.etcd.root).toBe('/pvsync/v1/');
    expect(cfg.flows).toHaveLength(3);
    expect(holdersOf(cfg, 'api')).toEqual(['linac', 'injector']);
    expect(holdersOf(cfg, 'archiver')).toEqual(['linac', 'injector', 'office']);
    expect(foreignPrimary(cfg, 'api', 'injector')).toBe('linac');
    expect(foreignPrimary(cfg, 'api', 'linac')).toBeUndefined();
    expect(foreignPrimary(cfg, 'iocs', 'injector')).toBeUndefined();
    expect(failoverOrder(cfg, 'api', 'injector')).toEqual(['injector', 'linac']);
    expect(failoverOrder(cfg, 'api', 'office')).toEqual(['linac', 'injector']);
  });

  it('picks the nearest installation by the longest matching network', () => {
    const cfg = ok(FILE);
    expect(nearestInstallation(cfg, ['10.1.9.9'])).toBe('linac');
    expect(nearestInstallation(cfg, ['127.0.0.1', '10.7.0.1'])).toBe('injector');
    expect(nearestInstallation(cfg, ['192.168.1.1'])).toBeUndefined();
  });

  it.each([
    [{ installations: {} }, 'installations'],
    [{ ...FILE, installations: { ...FILE.installations, linac: { ...FILE.installations.linac, networks: ['10.1.0.0/40'] } } }, 'installations.linac.networks.0'],
    [{ ...FILE, installations: { ...FILE.installations, linac: { etcd: { endpoints: ['nope'] }, api: ['http://x'] } } }, 'installations.linac.etcd.endpoints.0'],
    [{ ...FILE, data: { api: { primary: 'mars' } } }, 'data.api.primary'],
    [{ ...FILE, data: { api: { primary: 'linac', replicas: ['linac'] } } }, 'data.api.replicas.0'],
    [{ ...FILE, data: { iocs: [{ primary: 'linac' }, { primary: 'linac' }] } }, 'data.iocs.1.primary'],
    [{ ...FILE, data: { tags: { primary: 'linac' } } }, 'data'],
    [{ ...FILE, installations: { ...FILE.installations, linac: { ...FILE.installations.linac, etcd: { endpoints: ['http://x:1'], cert: 'a.pem' } } } }, 'installations.linac.etcd.cert'],
  ])('names the field of a mistake (%#)', (value, path) => {
    const r = parseInstallations(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(path);
  });
});
