/** macLib semantics: expansion, definition strings, iocsh word splitting and C escapes, each as a table. */
import { describe, expect, it } from 'vitest';
import { translateEscapes } from '../../../src/core/dbfile/escapes.js';
import { splitCommand } from '../../../src/core/dbfile/iocsh-split.js';
import { parseMacroDefinitions } from '../../../src/core/dbfile/macro-defs.js';
import { MacroTable } from '../../../src/core/dbfile/macros.js';

describe('parseMacroDefinitions', () => {
  it.each([
    ['P=X:,R=Y', [['P', 'X:'], ['R', 'Y']]],
    ['  P = X: ,  R =  Y  ', [['P', 'X:'], ['R', 'Y']]],
    ['A="x, y",B=\'q\'', [['A', '"x, y"'], ['B', "'q'"]]],
    ['A=\\,b', [['A', '\\,b']]],
    ['E=,F', [['E', ''], ['F', null]]],
    ['G,H=1', [['G', null], ['H', '1']]],
    ['"N M"=v', [['N M', 'v']]],
    ['', []],
  ])('%s', (text, want) => {
    expect(parseMacroDefinitions(text).map((d) => [d.name, d.value])).toEqual(want);
  });
});

describe('MacroTable.expand', () => {
  const table = new MacroTable((n) => (n === 'HOME_DIR' ? '/home/ioc' : undefined));
  table.defineAll(parseMacroDefinitions('P=X:,N=1,P1=one,Q="a b",A=$(A),B=$(C),C=$(B),E=\\$(P)'));
  it.each([
    ['$(P)$(N)', 'X:1', []],
    ['${P}', 'X:', []],
    ['$(U)', '$(U,undefined)', ['undefined U @0']],
    ['x $(U=d)', 'x d', []],
    ['$(P$(N))', 'one', []],
    ['$(U=$(V=$(P)))', 'X:', []],
    ['\\$(P)', '\\$(P)', []],
    ["'$(P)'", "'$(P)'", []],
    ['"$(P)"', '"X:"', []],
    ['$(Q)', 'a b', []],
    ['$(A)', '$(A,recursive)', ['recursive A @0']],
    ['$(B)', '$(B,recursive)', ['recursive B @0']],
    ['$(E)', '$(P)', []],
    ['$(S,S=scoped)$(S=gone)', 'scopedgone', []],
    ['$(HOME_DIR)', '/home/ioc', []],
    ['a # $(U)', 'a # $(U,undefined)', ['undefined U @4']],
    ['$(P', 'X:', []],
    ['no macros', 'no macros', []],
  ])('%s', (text, want, problems) => {
    const x = table.expand(text);
    expect(x.text).toBe(want);
    expect(x.problems.map((p) => `${p.kind} ${p.name} @${p.offset}`)).toEqual(problems);
  });

  it('leaves comments alone when asked to', () => {
    expect(table.expand('f $(P) # $(U)', { comment: '#' }).text).toBe('f X: # $(U)');
  });

  it('maps offsets of the expanded text back to the source', () => {
    const x = table.expand('ab$(P)cd');
    expect(x.text).toBe('abX:cd');
    expect([0, 2, 3, 4, 5].map((o) => x.map?.toSource(o))).toEqual([0, 2, 2, 6, 7]);
  });

  it('stops an exponential definition instead of hanging', () => {
    const t = new MacroTable();
    for (let k = 0; k < 40; k++) t.define(`M${k}`, `$(M${k + 1})$(M${k + 1})`);
    t.define('M40', 'x');
    const x = t.expand('$(M0)');
    expect(x.problems.some((p) => p.kind === 'overflow')).toBe(true);
    expect(x.text.length).toBeLessThanOrEqual(2 << 20);
  });

  it('scopes: inner definitions hide outer ones until popped; null undefines everywhere', () => {
    const t = new MacroTable();
    t.define('A', 'outer');
    t.pushScope();
    t.define('A', 'inner');
    expect(t.expand('$(A)').text).toBe('inner');
    t.popScope();
    expect(t.expand('$(A)').text).toBe('outer');
    t.define('A', null);
    expect(t.has('A')).toBe(false);
  });
});

describe('splitCommand (iocsh)', () => {
  it.each([
    ['dbLoadRecords("a.db", "P=X:,R=Y")', ['dbLoadRecords', 'a.db', 'P=X:,R=Y']],
    ['epicsEnvSet NAME "two words"', ['epicsEnvSet', 'NAME', 'two words']],
    ["epicsEnvSet(A, 'it''s')", ['epicsEnvSet', 'A', 'its']],
    ['cmd a\\ b c\\,d', ['cmd', 'a b', 'c,d']],
    ['cmd x,y (z)', ['cmd', 'x', 'y', 'z']],
    ['cmd "a"b', ['cmd', 'ab']],
  ])('%s', (line, words) => {
    const r = splitCommand(line);
    expect(r.ok && r.argv.map((w) => w.text)).toEqual(words);
  });

  it('finds input redirection and its file name', () => {
    const r = splitCommand('< envPaths');
    expect(r.ok && r.argv).toEqual([]);
    expect(r.ok && r.redirects.map((x) => [x.fd, x.mode, x.name.text])).toEqual([[0, 'r', 'envPaths']]);
  });

  it.each([
    ['cmd "open', 'unbalanced quote'],
    ['cmd trailing\\', 'trailing backslash'],
    ['cmd >', 'illegal redirection'],
  ])('refuses %s', (line, error) => {
    const r = splitCommand(line);
    expect(r.ok ? 'ok' : r.error).toBe(error);
  });

  it('gives word offsets for diagnostics', () => {
    const r = splitCommand('  dbLoadRecords("x.db")', 2);
    expect(r.ok && r.argv.map((w) => w.offset)).toEqual([2, 16]);
  });
});

describe('translateEscapes', () => {
  it.each([
    ['plain', 'plain'],
    ['a\\"b\\\\c', 'a"b\\c'],
    ['\\n\\t\\r', '\n\t\r'],
    ['\\x41\\x4a!', 'AJ!'],
    ['\\q\\$', 'q$'],
    ['cut\\0here', 'cut'],
    ['\\xzz', 'zz'],
  ])('%j', (raw, want) => {
    expect(translateEscapes(raw)).toBe(want);
  });
});
