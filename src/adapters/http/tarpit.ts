/**
 * A tarpit for refusals that a flood provokes (429 for too many password checks, or for too many watch streams):
 * the refusal is held back for a while before it is sent, so a client that retries at once waits for each answer
 * instead of sending hundreds a second; its flood costs it time, and the server one timer and one open socket per
 * held answer. At most `maxHeld` are held at once; past that they are answered at once.
 */

/** How long a refusal is held (0: sent at once) and how many may be held at once. */
export interface TarpitOptions {
  readonly holdMs: number;
  readonly maxHeld: number;
}

/** Defaults: 1 s, at most 1 000 held at once. */
export const DEFAULT_TARPIT: TarpitOptions = { holdMs: 1000, maxHeld: 1000 };

/** Resolves when a refusal may be sent: after holdMs, or at once when maxHeld are already waiting. */
export type Tarpit = () => Promise<void>;

/** One tarpit, shared by every route that refuses floods (one budget of held sockets). */
export function createTarpit(o: Partial<TarpitOptions> = {}): Tarpit {
  const holdMs = o.holdMs ?? DEFAULT_TARPIT.holdMs;
  const maxHeld = o.maxHeld ?? DEFAULT_TARPIT.maxHeld;
  let held = 0;
  return async () => {
    if (holdMs <= 0 || held >= maxHeld) return;
    held++;
    try {
      await new Promise((r) => setTimeout(r, holdMs));
    } finally {
      held--;
    }
  };
}

/** A tarpit that holds nothing. */
export const NO_TARPIT: Tarpit = async () => undefined;
