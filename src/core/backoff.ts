/**
 * The one back-off rule of pvsync's retry loops: the delay doubles from `baseMs` with each consecutive failure and
 * stops growing at `capMs`. Pure: callers that want jitter multiply the result by their own random factor.
 */

/** Delay before the next attempt after `failures` (≥ 1) consecutive failures. */
export function backoffMs(failures: number, baseMs: number, capMs: number): number {
  return Math.min(baseMs * 2 ** (Math.max(1, failures) - 1), capMs);
}
