// Types of eslint.layering.js for the test that lints fixtures with it.
import type { ESLint, Linter } from 'eslint';

/** The local plugin holding the resolved-path layering rule. */
export declare const layeringPlugin: ESLint.Plugin;
/** Config blocks of the layering (to follow the TypeScript parser's blocks). */
export declare const layering: Linter.Config[];
