import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/core/backoff.js';

describe('backoffMs', () => {
  it.each([
    [1, 250, 5000, 250], [2, 250, 5000, 500], [3, 250, 5000, 1000], [5, 250, 5000, 4000], [6, 250, 5000, 5000],
    [40, 250, 5000, 5000], [0, 500, 10_000, 500], [1, 5000, 60_000, 5000], [5, 5000, 60_000, 60_000],
  ])('after %i failures from %i ms capped at %i ms: %i ms', (failures, base, cap, expected) => {
    expect(backoffMs(failures, base, cap)).toBe(expected);
  });
});
