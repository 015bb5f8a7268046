/**
 * An unreadable file loses nothing: records carry where they are defined, the parse reports which files it could
 * not read, and the upload plan leaves the records last published from those files exactly as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSource } from '../../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../../src/core/dbfile/startup.js';
import type { FileSource } from '../../../src/core/dbfile/file-source.js';
import { isPvsError } from '../../../src/core/errors.js';
import { Keyspace } from '../../../src/core/keyspace.js';
import { StoredRecordSchema, type ParseResult, type StoredRecord } from '../../../src/core/model.js';
import { encodeStoredRecord, planRecordWrites, unreadableErrors, type RecordPlan } from '../../../src/core/upload/plan.js';
import { refuseErrors } from '../../../src/core/upload/strict.js';

const ks = new Keyspace('/t/');
const IOC = 'ioc@h';

const FILES: Readonly<Record<string, string>> = {
  '/ioc/st.cmd': [
    'epicsEnvSet("EPICS_DB_INCLUDE_PATH", "db")',
    'dbLoadRecords("db/a.db", "P=X:")',
    'dbLoadRecords("b.db", "P=X:")',
    'dbLoadTemplate("sub/pumps.substitutions")',
    '< more.cmd',
    'iocInit',
  ].join('\n'),
  '/ioc/db/a.db': 'record(ai, "$(P)A1") {\n  field(DESC, "a one")\n}\nrecord(ai, "$(P)A2") {}\ninclude "common.db"\n',
  '/ioc/db/common.db': '\n\nrecord(bo, "$(P)COMMON") {}\n',
  '/ioc/db/b.db': 'record(ao, "$(P)B1") {}\nrecord(ao, "$(P)B2") {}\nrecord(ai, "$(P)A2") { field(DESC, "from b") }\n',
  '/ioc/sub/pumps.substitutions': 'file "db/pump.template" {\n  pattern { N }\n  { 1 }\n  { 2 }\n}\n',
  '/ioc/db/pump.template': 'record(ai, "PUMP$(N)") {}\n',
  '/ioc/more.cmd': 'dbLoadRecords("db/more.db")\n',
  '/ioc/db/more.db': 'record(calc, "MORE") {}\n',
};

function source(files: Readonly<Record<string, string>>, failures: Readonly<Record<string, string>> = {}): FileSource {
  return { readText: (p) => files[p], failure: (p) => (files[p] === undefined ? failures[p] ?? 'ENOENT' : undefined) };
}
const without = (...paths: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(FILES).filter(([p]) => !paths.includes(p)));
const parse = (files: Readonly<Record<string, string>>, failures: Readonly<Record<string, string>> = {}): ParseResult =>
  parseStartup('/ioc/st.cmd', { files: source(files, failures) });

// etcd as a map; applying a plan is what the publisher commits.
function publish(store: Map<string, string>, parsed: ParseResult): RecordPlan {
  const plan = planRecordWrites(ks, IOC, parsed.records, store, parsed.unreadable);
  for (const op of plan.ops) {
    if (op.type === 'put') store.set(op.key, op.value);
    else store.delete(op.key);
  }
  return plan;
}
const read = (store: Map<string, string>, name: string): StoredRecord =>
  StoredRecordSchema.parse(JSON.parse(store.get(ks.iocRecord(IOC, name)) ?? 'null'));
const goneOf = (store: Map<string, string>): string[] =>
  [...store.values()].map((v) => StoredRecordSchema.parse(JSON.parse(v))).filter((r) => r.gone === true).map((r) => r.name).sort();

describe('records carry where they are defined', () => {
  it('file and line of the first definition, and the files it was reached through', () => {
    const r = parse(FILES);
    expect(r.unreadable).toEqual([]);
    const at = Object.fromEntries(r.records.map((x) => [x.name, [x.file, x.line, x.via]]));
    expect(at).toEqual({
      'X:A1': ['/ioc/db/a.db', 1, undefined],
      'X:A2': ['/ioc/db/a.db', 4, ['/ioc/db/b.db']], // redefined in b.db: the first definition counts, b.db is noted
      'X:COMMON': ['/ioc/db/common.db', 3, ['/ioc/db/a.db']],
      'X:B1': ['/ioc/db/b.db', 1, undefined],
      'X:B2': ['/ioc/db/b.db', 2, undefined],
      PUMP1: ['/ioc/db/pump.template', 1, ['/ioc/sub/pumps.substitutions']],
      PUMP2: ['/ioc/db/pump.template', 1, ['/ioc/sub/pumps.substitutions']],
      MORE: ['/ioc/db/more.db', 1, ['/ioc/more.cmd']],
    });
  });

  it('are stored with the record, and values without them (older uploads) still validate', () => {
    const store = new Map<string, string>();
    publish(store, parse(FILES));
    expect(read(store, 'X:COMMON')).toEqual({ name: 'X:COMMON', type: 'bo', infos: {}, aliases: [],
      file: '/ioc/db/common.db', line: 3, via: ['/ioc/db/a.db'] });
    expect(StoredRecordSchema.safeParse({ name: 'OLD', type: 'ai', infos: {}, aliases: [] }).success).toBe(true);
    expect(StoredRecordSchema.safeParse({ name: 'BAD', type: 'ai', infos: {}, aliases: [], line: 0 }).success).toBe(false);
  });
});

describe('an unreadable file keeps the records last published from it', () => {
  const cases: [what: string, missing: string, kept: string[], paths: string[]][] = [
    // X:A2 is defined in a.db and again in b.db: its published fields come from both
    ['a database file named by dbLoadRecords (search path)', '/ioc/db/b.db', ['X:B1', 'X:B2', 'X:A2'], ['/ioc/db/b.db']],
    ['a database file and what it includes', '/ioc/db/a.db', ['X:A1', 'X:A2', 'X:COMMON'], ['/ioc/db/a.db']],
    ['an included file', '/ioc/db/common.db', ['X:COMMON'], ['/ioc/db/common.db']],
    ['a substitution file', '/ioc/sub/pumps.substitutions', ['PUMP1', 'PUMP2'], ['/ioc/sub/pumps.substitutions']],
    ['a template', '/ioc/db/pump.template', ['PUMP1', 'PUMP2'], ['/ioc/db/pump.template']],
    ['a nested startup script', '/ioc/more.cmd', ['MORE'], ['/ioc/more.cmd']],
  ];
  it.each(cases)('%s: nothing of it is rewritten or marked gone; the rest reconciles', (_what, missing, kept, paths) => {
    const store = new Map<string, string>();
    publish(store, parse(FILES));
    const before = new Map(store);

    const broken = parse(without(missing));
    expect(broken.unreadable.map((u) => u.paths)).toEqual([paths]);
    const plan = publish(store, broken);
    for (const name of kept) expect(store.get(ks.iocRecord(IOC, name)), name).toBe(before.get(ks.iocRecord(IOC, name)));
    expect(goneOf(store)).toEqual([]);
    expect(plan.kept).toBe(kept.length);
    expect(plan.markedGone).toBe(0);
    expect(plan.live).toBe(8);

    // readable again: a normal upload, nothing left to do
    const again = publish(store, parse(FILES));
    expect(again.ops).toEqual([]);
    expect(again.kept).toBe(0);
    expect(store).toEqual(before);
  });

  it('a record defined again elsewhere is not rewritten from the other file while its own cannot be read', () => {
    const store = new Map<string, string>();
    publish(store, parse(FILES));
    const a2 = store.get(ks.iocRecord(IOC, 'X:A2'));
    const plan = publish(store, parse(without('/ioc/db/a.db')));
    // the parse now has X:A2 from b.db only (DESC "from b"): the published one from a.db stays
    expect(plan.ops.some((o) => o.key === ks.iocRecord(IOC, 'X:A2'))).toBe(false);
    expect(store.get(ks.iocRecord(IOC, 'X:A2'))).toBe(a2);
  });

  it('records that really vanished from readable files are still marked gone meanwhile', () => {
    const store = new Map<string, string>();
    publish(store, parse(FILES));
    const edited = { ...without('/ioc/db/b.db'), '/ioc/db/more.db': 'record(calc, "MORE2") {}\n' };
    const plan = publish(store, parse(edited));
    expect(goneOf(store)).toEqual(['MORE']);
    expect(plan.added).toBe(1);
    expect(plan.kept).toBe(3); // X:B1, X:B2, and X:A2 (redefined in b.db)
  });

  it('keeps a vanished record with no place (an older upload) while any file is unreadable, else marks it gone', () => {
    const legacy = (name: string): string => encodeStoredRecord({ name, type: 'ai', infos: {}, aliases: [] });
    const store = new Map([[ks.iocRecord(IOC, 'LEGACY'), legacy('LEGACY')], [ks.iocRecord(IOC, 'X:B1'), legacy('X:B1')]]);
    const plan = publish(store, parse(without('/ioc/db/b.db')));
    expect(plan.kept).toBe(2);
    expect(store.get(ks.iocRecord(IOC, 'LEGACY'))).toBe(legacy('LEGACY'));
    expect(store.get(ks.iocRecord(IOC, 'X:B1'))).toBe(legacy('X:B1'));
    const normal = publish(store, parse(FILES));
    expect(normal.markedGone).toBe(1);
    expect(goneOf(store)).toEqual(['LEGACY']);
    expect(read(store, 'X:B1').file).toBe('/ioc/db/b.db');
  });

  it('does not count a file the IOC would not load anyway, nor a .dbd file', () => {
    const files = { ...FILES, '/ioc/st.cmd': 'epicsEnvSet(EPICS_DB_INCLUDE_PATH, db)\ndbLoadDatabase("dbd/none.dbd")\n'
      + 'dbLoadRecords("db/a.db", "P=X:")\niocInit\ndbLoadRecords("db/late.db")\n' };
    const r = parse(files);
    expect(r.unreadable).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'error').length).toBe(1); // after iocInit: refused
  });

  it('names a template once however many rows use it, with the reason the file source gives', () => {
    const r = parse(without('/ioc/db/pump.template'), { '/ioc/db/pump.template': 'EIO' });
    expect(r.unreadable).toHaveLength(1);
    expect(r.unreadable[0]).toMatchObject({ name: 'db/pump.template', reason: 'EIO', at: { file: '/ioc/sub/pumps.substitutions', line: 3 } });
    expect(r.diagnostics.filter((d) => d.message.includes('pump.template'))).toHaveLength(2);
  });

  it('publishes each unreadable file as an error of the IOC (code, place, file)', () => {
    const r = parse(without('/ioc/db/b.db'), { '/ioc/db/b.db': 'ESTALE' });
    expect(unreadableErrors(r.unreadable)).toEqual([{
      code: 'PVS_DB_FILE', file: '/ioc/st.cmd', line: 3, col: 15, unreadable: '/ioc/db/b.db',
      message: "cannot open database file 'b.db' (tried /ioc/db/b.db): ESTALE",
    }]);
  });
});

describe('nodeFileSource', () => {
  it('reads files, and says why one cannot be read instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pvsync-fs-'));
    try {
      writeFileSync(join(dir, 'x.db'), 'record(ai, "X") {}\n');
      const fs = nodeFileSource();
      expect(fs.readText(join(dir, 'x.db'))).toBe('record(ai, "X") {}\n');
      expect(fs.failure?.(join(dir, 'x.db'))).toBeUndefined();
      expect(fs.readText(join(dir, 'nope.db'))).toBeUndefined();
      expect(fs.failure?.(join(dir, 'nope.db'))).toBe('ENOENT');
      expect(fs.readText(dir)).toBeUndefined(); // a directory
      expect(fs.failure?.(dir)).toBe('EISDIR');
      expect(fs.readText(join(dir, 'x.db', 'y'))).toBeUndefined();
      expect(fs.failure?.(join(dir, 'x.db', 'y'))).toBe('ENOTDIR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('upload --strict', () => {
  it('refuses a configuration with errors, naming file:line:col of each', () => {
    let err: unknown;
    try {
      refuseErrors(parse(without('/ioc/db/b.db', '/ioc/more.cmd')));
    } catch (e) {
      err = e;
    }
    expect(isPvsError(err, 'PVS_DB_STRICT')).toBe(true);
    const message = (err as Error).message;
    expect(message).toMatch(/^the IOC configuration has 2 errors; nothing was written/);
    expect(message).toContain("/ioc/st.cmd:3:15: cannot open database file 'b.db'");
    expect(message).toContain("/ioc/st.cmd:5:3: cannot open script '/ioc/more.cmd'");
  });

  it('accepts a configuration without errors (warnings and notes are fine)', () => {
    const r = parse({ ...FILES, '/ioc/db/a.db': 'record(ai, "$(Q)A") {}\n' });
    expect(r.diagnostics.some((d) => d.severity === 'warning')).toBe(true);
    expect(() => refuseErrors(r)).not.toThrow();
  });
});
