/**
 * Table-driven tests over test/fixtures/dbfile: each directory holds an IOC (st.cmd and the files it loads) and an
 * expect.json stating the records (in order, with the properties given), the environment (a subset) and every
 * diagnostic (place, severity, and a part of its message).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSource } from '../../../src/adapters/fs/file-source.js';
import { parseStartup } from '../../../src/core/dbfile/startup.js';

interface Expectation {
  readonly inputEnv?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly records: Record<string, { type?: string; fields?: Record<string, string>; infos?: Record<string, string>; aliases?: string[] }>;
  readonly diagnostics: Array<{ at: string; severity: string; match: string }>;
}

const ROOT = 'test/fixtures/dbfile';
const cases = readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe('IOC fixtures', () => {
  it('has fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of cases) {
    it(name, () => {
      const dir = posix.join(ROOT, name);
      const want = JSON.parse(readFileSync(posix.join(dir, 'expect.json'), 'utf8')) as Expectation;
      const result = parseStartup(posix.join(dir, 'st.cmd'), { files: nodeFileSource(), env: want.inputEnv ?? {} });

      const got = result.diagnostics.map((d) => ({
        at: `${posix.relative(dir, d.file)}:${d.line}:${d.col}`, severity: d.severity, message: d.message,
      }));
      expect(got.map((d) => `${d.at} ${d.severity}`)).toEqual(want.diagnostics.map((d) => `${d.at} ${d.severity}`));
      want.diagnostics.forEach((d, i) => expect(got[i]?.message).toContain(d.match));

      expect(result.records.map((r) => r.name)).toEqual(Object.keys(want.records));
      for (const r of result.records) {
        const w = want.records[r.name] ?? {};
        if (w.type !== undefined) expect(r.type, r.name).toBe(w.type);
        if (w.fields !== undefined) expect(r.fields, r.name).toEqual(w.fields);
        if (w.infos !== undefined) expect(r.infos, r.name).toEqual(w.infos);
        if (w.aliases !== undefined) expect(r.aliases, r.name).toEqual(w.aliases);
      }
      if (want.env !== undefined) expect(result.env).toEqual(want.env);
    });
  }
});
