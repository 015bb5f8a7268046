/** `pvsync parse`: JSON and text output over the example IOCs, --env, and the exit on an unreadable script. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDiagnostic, formatRecords, mergeEnv } from '../../../src/apps/commands/parse.js';
import { buildProgram } from '../../../src/apps/cli.js';
import { isPvsError } from '../../../src/core/errors.js';

async function run(args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  await buildProgram().exitOverride().parseAsync(['node', 'pvsync', 'parse', ...args]);
  return { out, err };
}

afterEach(() => { vi.restoreAllMocks(); });

describe('pvsync parse', () => {
  it('prints the example BPM IOC as JSON: env, records with fields/infos/aliases, diagnostics', async () => {
    const { out } = await run(['examples/linac-bpm/st.cmd', '--json', '--env', 'TOP=.']);
    const r = JSON.parse(out) as { env: Record<string, string>; records: Array<{ name: string; type: string;
      fields: Record<string, string>; infos: Record<string, string>; aliases: string[] }>; diagnostics: unknown[] };
    expect(Object.keys(r)).toEqual(['env', 'records', 'diagnostics', 'unreadable']);
    expect(r.env['IOCNAME']).toBe('linac-bpm');
    expect(r.env['EPICS_DB_INCLUDE_PATH']).toBe('./db');
    expect(r.records).toHaveLength(53);
    expect(r.records[0]).toEqual({
      name: 'LINAC:BPM01:X', type: 'ai',
      fields: { DESC: 'BPM01 horizontal position', EGU: 'mm', PREC: '3', HOPR: '10', LOPR: '-10', HIGH: '2', LOW: '-2',
        HSV: 'MINOR', LSV: 'MINOR' },
      infos: { archive: 'monitor 0.1' }, aliases: ['LINAC:BPM01:POS:X'],
      file: 'examples/linac-bpm/db/bpm.template', line: 2, via: ['examples/linac-bpm/bpm.substitutions'],
    });
    expect(r.records.find((x) => x.name === 'LINAC:BPM10:ZPOS')?.fields['VAL']).toBe('46.15');
    expect(r.diagnostics).toHaveLength(2);
  });

  it('prints a dbl-like listing and the diagnostics in text form', async () => {
    const { out, err } = await run(['examples/vacuum/st.cmd', '--format', 'text']);
    expect(out.split('\n')[0]).toMatch(/^VAC:S1:GA1:PRES\s+ai\s+Pressure GA1, upstream of the buncher$/);
    expect(out).toContain('  alias VAC:S1:SV1:POS');
    expect(err).toContain("examples/vacuum/st.cmd:20:1: note: command 'asSetFilename' skipped");
    expect(err).toContain('12 records, 0 errors');
  });

  it('fails only when the startup script cannot be read', async () => {
    await expect(run(['examples/nope/st.cmd'])).rejects.toSatisfy((e: unknown) => isPvsError(e, 'PVS_DB_FILE'));
  });

  it('formats diagnostics, records and --env', () => {
    expect(formatDiagnostic({ file: 'a.db', line: 3, col: 7, severity: 'warning', message: 'm' })).toBe('a.db:3:7: warning: m');
    expect(formatRecords({ env: {}, diagnostics: [], unreadable: [], records: [
      { name: 'A', type: 'ai', fields: { DESC: 'd' }, infos: {}, aliases: ['B'] },
      { name: 'LONGER', type: 'bo', fields: {}, infos: {}, aliases: [] },
    ] })).toBe('A       ai  d\n  alias B\nLONGER  bo\n');
    expect(mergeEnv({ A: '1', B: undefined }, ['B=2', 'C=x=y'])).toEqual({ A: '1', B: '2', C: 'x=y' });
    expect(() => mergeEnv({}, ['novalue'])).toThrow(/NAME=VALUE/);
  });
});
