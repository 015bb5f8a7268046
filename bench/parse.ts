/**
 * Benchmark of the IOC parser: generate an IOC whose st.cmd loads 100 000 records through one substitution file
 * (a 4-record template × 25 000 rows) in a temporary directory, parse it, print the figures. Last line is JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { nodeFileSource } from '../src/adapters/fs/file-source.js';
import { parseStartup } from '../src/core/dbfile/startup.js';

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
  process.stdout.write(JSON.stringify({ bench: 'parse', records, records_per_s: Math.round(records / seconds), seconds: Number(seconds.toFixed(4)) }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
