// Runs the pvsync CLI from source (`node --import tsx test/support/run-cli.ts …`), for harnesses that spawn it
// without a build.
import { main } from '../../src/apps/cli.js';

await main(process.argv);
