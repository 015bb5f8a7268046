import { describe, expect, it } from 'vitest';
import {
  archivedRow, nextAction, pageArchived, selectArchived, type ArchivedEntry,
} from '../../../src/core/archiver/archived-list.js';
import { applianceTime } from '../../../src/core/archiver/sim-appliance.js';
import type { DesiredPv } from '../../../src/core/archiver/plan.js';
import type { CfChannel } from '../../../src/core/model.js';

function ch(name: string, props: Record<string, string>): CfChannel {
  return { name, owner: 'o', tags: [], properties: Object.entries(props).map(([n, value]) => ({ name: n, owner: 'o', value, channels: [] })) };
}

const ALL = { names: [], untargeted: true };

describe('selectArchived', () => {
  const channels = [
    ch('Z:1', { archive: 'monitor 1.0', pvStatus: 'Active' }),
    ch('A:1', { archive: 'scan@10', pvStatus: 'Inactive' }),
    ch('M:1', { archive: 'fast', archiver: 'komac, other', pvStatus: 'Active' }),
    ch('M:2', { archive: 'monitor@often', pvStatus: 'Active' }),
    ch('N:1', { pvStatus: 'Active' }),
    ch('\u{1F600}:1', { archive: 'default', pvStatus: 'Active' }),
    ch('\uFF5E:1', { archive: 'default', pvStatus: 'Active' }),
  ];

  it('keeps what the reconciler serves, in the directory\'s name order (code points, not UTF-16 units)', () => {
    expect(selectArchived(channels, ALL).map((e) => e.name)).toEqual(['A:1', 'M:2', 'Z:1', '\uFF5E:1', '\u{1F600}:1']);
    expect(selectArchived(channels, { names: ['komac'], untargeted: false }).map((e) => e.name)).toEqual(['M:1']);
    expect(selectArchived(channels, { names: ['other'], untargeted: true }).map((e) => e.name)).toHaveLength(6);
    expect(selectArchived(channels, { names: ['komac2'], untargeted: false })).toEqual([]);
  });

  it('keeps a refused spec with its problem', () => {
    const bad = selectArchived(channels, ALL).find((e) => e.name === 'M:2');
    expect(bad?.want).toMatchObject({ value: 'monitor@often', error: expect.stringMatching(/not a number/) });
  });
});

describe('pageArchived', () => {
  const entries = selectArchived(['a', 'b', 'c', 'd', 'e'].map((n) => ch(n, { archive: 'default', pvStatus: 'Active' })), ALL);
  const names = (r: { page: ArchivedEntry[] }): string[] => r.page.map((e) => e.name);

  it.each([
    [null, 2, ['a', 'b'], 'b'],
    ['b', 2, ['c', 'd'], 'd'],
    ['d', 2, ['e'], null],
    ['c', 2, ['d', 'e'], null],
    ['bb', 2, ['c', 'd'], 'd'], // a cursor that is no name (the PV went away) still pages on
    ['e', 2, [], null],
    [null, 10, ['a', 'b', 'c', 'd', 'e'], null],
  ] as const)('after %s, %i a page', (after, size, page, next) => {
    const r = pageArchived(entries, after, size);
    expect(names(r)).toEqual(page);
    expect(r.nextAfter).toBe(next);
  });

  it('walks every entry exactly once', () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const r = pageArchived(entries, after, 2);
      seen.push(...names(r));
      after = r.nextAfter;
    } while (after !== null);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('nextAction: the planner, one PV', () => {
  const active: DesiredPv = { name: 'P', spec: { kind: 'sampling', method: 'MONITOR', period: 1 }, active: true };
  const down: DesiredPv = { ...active, active: false };
  const archived = { status: 'Being archived', samplingPeriod: '1.0', isMonitored: 'true' };
  it.each([
    ['active, not archived', active, { status: 'Not being archived' }, 'archive'],
    ['active, unknown to the appliance', active, undefined, 'archive'],
    ['active, archived as asked', active, archived, 'none'],
    ['active, archived with another period', active, { ...archived, samplingPeriod: '2.0' }, 'change'],
    ['active, paused', active, { status: 'Paused' }, 'resume'],
    ['active, in the workflow', active, { status: 'Initial sampling' }, 'wait'],
    ['down, archived', down, archived, 'pause'],
    ['down, paused', down, { status: 'Paused' }, 'none'],
    ['down, not archived', down, { status: 'Not being archived' }, 'none'],
  ] as const)('%s → %s', (_what, want, entry, next) => {
    expect(nextAction(want, entry)).toBe(next);
  });
});

describe('archivedRow', () => {
  const [good, bad] = selectArchived([
    ch('G', { archive: 'monitor 1.0', pvStatus: 'Active', iocid: 'ioc@h' }),
    ch('H', { archive: 'poll@1', pvStatus: 'Inactive', iocid: 'ioc@h' }),
  ], ALL) as [ArchivedEntry, ArchivedEntry];
  const G = ch('G', { archive: 'monitor 1.0', pvStatus: 'Active', iocid: 'ioc@h' });

  it('joins the directory, the appliance and the next action', () => {
    expect(archivedRow(good, G, {
      pvName: 'G', status: 'Being archived', samplingPeriod: '1.0', isMonitored: 'true', lastEvent: 'Mar/04/2024 10:15:31 UTC', connectionState: 'true',
    })).toEqual({
      name: 'G', archive: 'monitor 1.0', spec: 'monitor@1.0', problem: null, iocStatus: 'Active', iocId: 'ioc@h',
      appliance: { status: 'Being archived', method: 'MONITOR', period: 1, lastEvent: 'Mar/04/2024 10:15:31 UTC', connected: true },
      next: 'none',
    });
    expect(archivedRow(good, G, { pvName: 'G', status: 'Paused' })).toMatchObject({ appliance: { status: 'Paused' }, next: 'resume' });
    expect(archivedRow(good, G, undefined)).toMatchObject({ appliance: { status: 'Not being archived' }, next: 'archive' });
  });

  it('says nothing of the appliance when none answered, and marks a refused spec', () => {
    expect(archivedRow(good, G, null)).toMatchObject({ appliance: null, next: null });
    expect(archivedRow(bad, undefined, { status: 'Not being archived' })).toMatchObject({
      name: 'H', archive: 'poll@1', spec: null, problem: expect.stringMatching(/monitor or scan/), iocStatus: 'Inactive', next: 'refused',
    });
  });
});

describe('applianceTime', () => {
  it('writes the appliance\'s human-readable form, in UTC', () => {
    expect(applianceTime(Date.UTC(2024, 2, 4, 10, 15, 31, 900))).toBe('Mar/04/2024 10:15:31 UTC');
    expect(applianceTime(Date.UTC(2025, 11, 31, 0, 0, 0))).toBe('Dec/31/2025 00:00:00 UTC');
    expect(applianceTime(undefined)).toBe('Never');
  });
});
