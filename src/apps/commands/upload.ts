/** The `pvsync upload` command (being written). */
import type { Command } from 'commander';

/** Register `pvsync upload` on the program. */
export function register(_program: Command): void {}
