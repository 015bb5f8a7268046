/**
 * Benchmark of the IOC parser: generate an IOC whose st.cmd loads 100 000 records through one substitution file
 * (a 4-record template × 25 000 rows) in a temporary directory, parse it, print the figures. Last line is JSON.
 * When the reference softIoc is built (scripts/build-softioc.sh), EPICS Base loads the same IOC in the same run
 * (softIoc also runs iocInit, which pvsync does not do; its start-up alone is timed too) and the ratio is printed:
 * absolute times drift on a shared machine, ratios hold.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { nodeFileSource } from '../src/adapters/fs/file-source.js';
import { parseStartup } from '../src/core/dbfile/startup.js';
import { findSoftIoc, type SoftIocBuild } from '../test/support/softioc.js';

const ROWS = 25_000;
const TEMPLATE = `# one device: 4 records
record(ai, "$(SYS):$(DEV):VAL") {
    field(DESC, "$(DEV) value")
    field(EGU, "$(EGU=mm)")
    field(PREC, "3")
    info(archive, "monitor 1.0")
    alias("$(SYS):$(DEV):READ")
}
record(ao, "$(SYS):$(DEV):SET") {
    field(DESC, "$(DEV) setpoint")
    field(DRVH, "$(MAX)")
}
record(bi, "$(SYS):$(DEV):STAT") {
    field(ZNAM, "OK")
    field(ONAM, "FAULT")
}
record(calc, "$(SYS):$(DEV):CALC") {
    field(INPA, "$(SYS):$(DEV):VAL CP")
    field(CALC, "A*2")
}
`;

// Seconds from spawn to exit of softIoc running `script` in `cwd`, then `exit` on stdin. softIoc runs iocInit
// after the script by itself, so its time includes initializing the records (pvsync's parse does not).
async function timeSoftIoc(build: SoftIocBuild, script: string, cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(build.softIoc, [script], { cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', EPICS_BASE: build.epicsBase },
    stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  child.stdin.end('exit\n');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`softIoc exited with ${String(code)}\n${stderr}`);
  return (performance.now() - t0) / 1000;
}

const dir = mkdtempSync(join(tmpdir(), 'pvsync-bench-'));
try {
  let subs = 'file "dev.template" {\n    pattern { DEV, MAX }\n';
  for (let i = 0; i < ROWS; i++) subs += `    { D${String(i).padStart(6, '0')}, "${i % 100}" }\n`;
  subs += '}\n';
  writeFileSync(join(dir, 'dev.template'), TEMPLATE);
  writeFileSync(join(dir, 'big.substitutions'), subs);
  writeFileSync(join(dir, 'st.cmd'), 'epicsEnvSet("IOCNAME", "bench")\ndbLoadTemplate("big.substitutions", "SYS=BENCH")\niocInit\n');

  const files = nodeFileSource();
  parseStartup(join(dir, 'st.cmd'), { files }); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = parseStartup(join(dir, 'st.cmd'), { files });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const records = result.records.length;
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) throw new Error(`benchmark IOC produced ${errors} errors`);

  process.stdout.write(`parsed ${records} records (${ROWS} template rows) in ${seconds.toFixed(3)} s\n`);
  process.stdout.write(`${Math.round(records / seconds)} records/s; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s (the machine may be shared: wall time includes waiting)\n`);
  const build = findSoftIoc();
  let softIoc: { seconds: number; startup_seconds: number; pvsync_vs_softioc: number } | null = null;
  if (build === undefined) process.stdout.write('softIoc not built (scripts/build-softioc.sh): no reference time\n');
  else {
    writeFileSync(join(dir, 'load.cmd'), 'epicsEnvSet("IOCNAME", "bench")\ndbLoadTemplate("big.substitutions", "SYS=BENCH")\n');
    writeFileSync(join(dir, 'empty.cmd'), 'epicsEnvSet("IOCNAME", "bench")\n');
    await timeSoftIoc(build, join(dir, 'load.cmd'), dir); // warm-up (page cache)
    const load = await timeSoftIoc(build, join(dir, 'load.cmd'), dir);
    const startup = await timeSoftIoc(build, join(dir, 'empty.cmd'), dir);
    softIoc = { seconds: Number(load.toFixed(4)), startup_seconds: Number(startup.toFixed(4)),
      pvsync_vs_softioc: Number((seconds / load).toFixed(2)) };
    process.stdout.write(`softIoc ${build.softIoc.includes('7.0.3.1') ? '(EPICS Base 7.0.3.1) ' : ''}loads the same IOC in ${load.toFixed(3)} s `
      + `(iocInit included; ${startup.toFixed(3)} s to start and init an empty IOC): pvsync takes ${softIoc.pvsync_vs_softioc}× its time\n`);
  }
  process.stdout.write(JSON.stringify({ bench: 'parse', records, records_per_s: Math.round(records / seconds), seconds: Number(seconds.toFixed(4)),
    softioc: softIoc }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
