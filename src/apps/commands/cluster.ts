/** The `pvsync cluster` command (being written). */
import type { Command } from 'commander';

/** Register `pvsync cluster` on the program. */
export function register(_program: Command): void {}
