/** The `pvsync parse` command (being written). */
import type { Command } from 'commander';

/** Register `pvsync parse` on the program. */
export function register(_program: Command): void {}
