/** The `pvsync serve` command (being written). */
import type { Command } from 'commander';

/** Register `pvsync serve` on the program. */
export function register(_program: Command): void {}
