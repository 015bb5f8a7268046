/**
 * Macro substitution as EPICS Base's macLib does it: `$(A)`, `${A}`, defaults `$(A=x)`, nested names and defaults,
 * scoped definitions `$(A,B=1)`, no expansion inside single quotes, `\$` escapes, recursion detection. An undefined
 * macro without default becomes the text `$(A,undefined)` (and a problem is reported), a recursive one
 * `$(A,recursive)`. Macro values are expanded with their own quotes and escapes removed, as macLib does.
 */
import type { MacroDefinition } from './macro-defs.js';

/** A reference that could not be expanded; `offset` is where its top-level `$` stands in the expanded text's source. */
export interface MacroProblem {
  readonly kind: 'undefined' | 'recursive' | 'overflow';
  readonly name: string;
  readonly offset: number;
}

/** Maps offsets of an expanded string back to offsets in its source (text produced by a macro maps to its `$`). */
export class OffsetMap {
  private readonly outOffs: number[] = [];
  private readonly inOffs: number[] = [];
  private readonly inRef: boolean[] = [];

  /** Record that output offset `out` corresponds to source offset `src`; `ref` = the output there comes from a macro. */
  mark(out: number, src: number, ref: boolean): void {
    this.outOffs.push(out);
    this.inOffs.push(src);
    this.inRef.push(ref);
  }

  /** Source offset of output offset `out`. */
  toSource(out: number): number {
    let k = -1;
    for (let j = 0; j < this.outOffs.length; j++) {
      if ((this.outOffs[j] ?? 0) <= out) k = j; else break;
    }
    if (k < 0) return out;
    const src = this.inOffs[k] ?? 0;
    return this.inRef[k] === true ? src : src + (out - (this.outOffs[k] ?? 0));
  }
}

/** The result of expanding one string. `map` is null when nothing was substituted (offsets are unchanged). */
export interface Expansion {
  readonly text: string;
  readonly problems: readonly MacroProblem[];
  readonly map: OffsetMap | null;
}

/** Options of an expansion: `comment` = a character that, outside quotes, starts a comment that is left as is. */
export interface ExpandOptions {
  readonly comment?: string;
}

interface Entry {
  raw: string;
  visiting: boolean;
}

interface Out { s: string }

// Guards against exponential definitions (A=$(B)$(B), B=$(C)$(C), ...): macLib is bounded by its buffer size.
const STEP_BUDGET = 5_000_000;
const MAX_OUTPUT = 1 << 20;

/** A stack of macro scopes (innermost last), optionally backed by an environment, as a macLib handle. */
export class MacroTable {
  private readonly scopes: Array<Map<string, Entry>> = [new Map()];
  private readonly envEntries = new Map<string, Entry>();
  private suppress = 0;
  private problems: MacroProblem[] = [];
  private topRef = 0;
  private steps = 0;
  private exhausted = false;

  /** `env`, when given, is consulted for names no scope defines (iocsh does this; database loading does not). */
  constructor(private readonly env?: (name: string) => string | undefined) {}

  /** Define `name` in the innermost scope; `null` undefines it in every scope. */
  define(name: string, value: string | null): void {
    if (value === null) {
      for (const scope of this.scopes) scope.delete(name);
      this.envEntries.delete(name);
      return;
    }
    const top = this.scopes[this.scopes.length - 1];
    const existing = top?.get(name);
    if (existing !== undefined) existing.raw = value;
    else top?.set(name, { raw: value, visiting: false });
  }

  /** Define every definition in order (later ones win), as macInstallMacros. */
  defineAll(defs: readonly MacroDefinition[]): void {
    for (const d of defs) this.define(d.name, d.value);
  }

  /** Forget what is known about an environment variable (it changed), and any macro of that name, as epicsEnvSet. */
  forget(name: string): void {
    this.define(name, null);
  }

  /** Open a new innermost scope. */
  pushScope(): void {
    this.scopes.push(new Map());
  }

  /** Drop the innermost scope (never the outermost). */
  popScope(): void {
    if (this.scopes.length > 1) this.scopes.pop();
  }

  /** True when `name` is defined (in a scope or the environment). */
  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** Expand every macro reference in `text`, as macExpandString (user quotes and escapes are kept). */
  expand(text: string, opts: ExpandOptions = {}): Expansion {
    if (text.indexOf('$') < 0) return { text, problems: [], map: null };
    this.problems = [];
    this.suppress = 0;
    this.steps = 0;
    this.exhausted = false;
    const out: Out = { s: '' };
    const map = new OffsetMap();
    this.trans(0, '', text, 0, out, map, opts.comment ?? '');
    if (this.exhausted) this.report({ kind: 'overflow', name: '', offset: this.topRef });
    const problems = this.problems;
    this.problems = [];
    return { text: out.s, problems, map };
  }

  private report(p: MacroProblem): void {
    // one report per distinct problem and place: a value used twice is not two mistakes
    if (this.problems.length >= 50) return;
    if (this.problems.some((q) => q.kind === p.kind && q.name === p.name && q.offset === p.offset)) return;
    this.problems.push(p);
  }

  private lookup(name: string): Entry | undefined {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const e = this.scopes[k]?.get(name);
      if (e !== undefined) return e;
    }
    if (this.env === undefined || name === '') return undefined;
    const cached = this.envEntries.get(name);
    if (cached !== undefined) return cached;
    const v = this.env(name);
    if (v === undefined) return undefined;
    const e: Entry = { raw: v, visiting: false };
    this.envEntries.set(name, e);
    return e;
  }

  /** Translate `s` from `i` until a character of `term` (or the end); returns the index where it stopped. */
  private trans(level: number, term: string, s: string, i: number, out: Out | null, map: OffsetMap | null,
    comment: string): number {
    const discard = level > 0;
    let quote = '';
    let run = i; // start of the plain characters not yet copied to `out` (no closure: this is the hot loop)
    while (i < s.length) {
      if (++this.steps > STEP_BUDGET || (out !== null && out.s.length > MAX_OUTPUT)) {
        this.exhausted = true;
        return s.length;
      }
      const c = s[i] ?? '';
      if (term !== '' && term.includes(c)) break;
      if (quote !== '') {
        if (c === quote) {
          quote = '';
          if (discard) { if (out !== null && i > run) out.s += s.slice(run, i); run = ++i; continue; }
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        if (discard) { if (out !== null && i > run) out.s += s.slice(run, i); run = ++i; continue; }
      } else if (map !== null && comment !== '' && c === comment) {
        // a comment runs to the end of the line and is left as written
        if (out !== null) out.s += s.slice(run);
        return s.length;
      }
      if (c === '$' && quote !== "'" && (s[i + 1] === '(' || s[i + 1] === '{')) {
        if (out !== null && i > run) out.s += s.slice(run, i);
        if (map !== null) {
          this.topRef = i;
          map.mark(out === null ? 0 : out.s.length, i, true);
        }
        i = this.refer(level, s, i, out);
        if (map !== null) map.mark(out === null ? 0 : out.s.length, i, false);
        run = i;
        continue;
      }
      if (c === '\\' && i + 1 < s.length) {
        if (discard) {
          if (out !== null && i > run) out.s += s.slice(run, i);
          run = i + 1;
        }
        i += 2;
        continue;
      }
      i++;
    }
    if (out !== null && i > run) out.s += s.slice(run, i);
    return i;
  }

  /** Expand the reference starting at `s[i] === '$'`; returns the index after it. */
  private refer(level: number, s: string, i: number, out: Out | null): number {
    const close = s[i + 1] === '(' ? ')' : '}';
    const macEnd = '=,' + close;
    const valEnd = ',' + close;
    i += 2;
    const nameOut: Out = { s: '' };
    i = this.trans(level + 1, macEnd, s, i, nameOut, null, '');
    const name = nameOut.s;
    let defStart = -1;
    if (s[i] === '=') {
      this.suppress++;
      defStart = ++i;
      i = this.trans(level + 1, valEnd, s, i, null, null, '');
      this.suppress--;
    }
    let pushed = false;
    if (s[i] === ',') {
      this.suppress++;
      this.pushScope();
      pushed = true;
      while (s[i] === ',') {
        const sub: Out = { s: '' };
        i = this.trans(level + 1, macEnd, s, i + 1, sub, null, '');
        if (s[i] === '=') {
          const val: Out = { s: '' };
          i = this.trans(level + 1, valEnd, s, i + 1, val, null, '');
          this.define(sub.s, val.s);
        }
      }
      this.suppress--;
    }
    const entry = this.lookup(name);
    let bad: MacroProblem['kind'] | null = null;
    if (entry !== undefined) {
      if (!entry.visiting) {
        entry.visiting = true;
        try {
          this.trans(level + 1, '', entry.raw, 0, out, null, '');
        } finally {
          entry.visiting = false;
        }
      } else {
        bad = 'recursive';
      }
    } else if (defStart >= 0) {
      this.trans(level + 1, valEnd, s, defStart, out, null, '');
    } else {
      bad = 'undefined';
    }
    if (bad !== null) {
      if (this.suppress === 0 && !this.exhausted) this.report({ kind: bad, name, offset: this.topRef });
      if (out !== null) out.s += '$(' + name + (this.suppress > 0 ? ')' : `,${bad})`);
    }
    if (pushed) this.popScope();
    return i < s.length ? i + 1 : s.length;
  }
}
