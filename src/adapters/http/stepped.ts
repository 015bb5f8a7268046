/**
 * Runs a directory query in steps on the event loop: a bounded number of candidates per step, then the other
 * requests and I/O waiting (setImmediate runs after the poll phase), so that one scan of a large directory — a
 * pathological glob over a million names — holds the loop for one step, not for the whole scan.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SteppedQuery } from '../../core/directory/directory.js';

/**
 * Candidates tested per step: ~1–3 ms at the costliest name tests seen (a 20-pair `?*` glob against 60-character
 * names). A query over fewer candidates (most: the name prefix narrows them) is answered in its first step.
 */
export const SCAN_STEP = 20_000;

/** The answer of `query`, yielding to the event loop between steps of `budget` candidates. */
export async function runStepped<T>(query: SteppedQuery<T>, budget = SCAN_STEP): Promise<T> {
  for (;;) {
    const answer = query.step(budget);
    if (answer !== null) return answer;
    await nextTurn();
  }
}
