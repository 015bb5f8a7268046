import { describe, expect, it } from 'vitest';
import { IocLiveness } from '../../../src/core/liveness/ioc-liveness.js';

describe('IocLiveness', () => {
  it.each([
    // [probes as [ok, t], expected transitions]
    { name: 'up at the first success', probes: [[true, 0]], want: ['up'] },
    { name: 'a short outage is forgiven', probes: [[true, 0], [false, 1000], [false, 2000], [true, 2500]], want: ['up', null, null, null] },
    { name: 'down once the grace has passed', probes: [[true, 0], [false, 1000], [false, 3000]], want: ['up', null, 'down'] },
    { name: 'back up at the next success', probes: [[true, 0], [false, 3000], [true, 3100]], want: ['up', 'down', 'up'] },
    { name: 'never up: down after the grace from the first probe', probes: [[false, 0], [false, 2999], [false, 3000]], want: [null, null, 'down'] },
  ] as { name: string; probes: [boolean, number][]; want: (string | null)[] }[])('$name', ({ probes, want }) => {
    const l = new IocLiveness({ graceMs: 3000 });
    expect(probes.map(([ok, t]) => l.observe(ok, t))).toEqual(want);
  });

  it('reports no transition while the state holds', () => {
    const l = new IocLiveness({ graceMs: 1000 });
    l.observe(false, 0);
    expect(l.observe(false, 5000)).toBe('down');
    expect(l.observe(false, 6000)).toBeNull();
    expect(l.state).toBe('down');
  });

  it('refuses a non-positive grace', () => {
    expect(() => new IocLiveness({ graceMs: 0 })).toThrow(RangeError);
  });
});
