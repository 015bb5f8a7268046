#!/usr/bin/env node
// Entry point of the `pvsync` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
import { main } from '../dist/apps/cli.js';

await main(process.argv);
