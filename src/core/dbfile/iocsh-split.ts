/**
 * Splitting one iocsh command line into words, as iocsh's tokenizer: words are separated by blanks, `(`, `)` and
 * `,` outside quotes; `"` and `'` quote (the quotes are dropped); a backslash takes the next character literally;
 * `<file` redirects input (a line with only that runs the file as a script), `>`, `>>`, `2>` redirect output.
 */

/** A word and the offset of its first character in the line. */
export interface Word {
  readonly text: string;
  readonly offset: number;
}

/** A redirection: `fd` 0 is input (`<`), 1..9 output. */
export interface Redirect {
  readonly fd: number;
  readonly mode: 'r' | 'w' | 'a';
  readonly name: Word;
}

/** The words of a line, or the reason iocsh would refuse it. */
export type SplitResult =
  | { readonly ok: true; readonly argv: readonly Word[]; readonly redirects: readonly Redirect[] }
  | { readonly ok: false; readonly error: string; readonly offset: number };

const SEPARATORS = ' \t(),\r';

/** Split `line` from offset `start`. */
export function splitCommand(line: string, start = 0): SplitResult {
  const argv: Word[] = [];
  const redirects: Redirect[] = [];
  let pending: { fd: number; mode: 'r' | 'w' | 'a'; offset: number } | null = null;
  let target: { fd: number; mode: 'r' | 'w' | 'a' } | null = null; // the word being built is a redirect name
  let inword = false;
  let backslash = false;
  let quote = '';
  let cur = '';
  let curStart = 0;
  const finish = (): void => {
    if (target !== null) redirects.push({ fd: target.fd, mode: target.mode, name: { text: cur, offset: curStart } });
    else argv.push({ text: cur, offset: curStart });
    target = null;
    cur = '';
    inword = false;
  };
  for (let i = start; i < line.length; i++) {
    let c = line[i] ?? '';
    let sep = quote === '' && !backslash && SEPARATORS.includes(c);
    if (quote === '' && !backslash) {
      if (c === '\\') { backslash = true; continue; }
      let fd = 1;
      if (c === '<') {
        if (pending !== null) break;
        pending = { fd: 0, mode: 'r', offset: i };
        sep = true;
      }
      if (c >= '1' && c <= '9' && line[i + 1] === '>') {
        fd = c.charCodeAt(0) - 48;
        c = '>';
        i++;
      }
      if (c === '>') {
        if (pending !== null) break;
        let mode: 'w' | 'a' = 'w';
        if (line[i + 1] === '>') { i++; mode = 'a'; }
        pending = { fd, mode, offset: i };
        sep = true;
      }
    }
    if (inword) {
      if (c === quote) {
        quote = '';
      } else if (quote === '' && !backslash) {
        if (sep) finish();
        else if (c === '"' || c === "'") quote = c;
        else cur += c;
      } else {
        cur += c;
      }
    } else if (!sep) {
      if ((c === '"' || c === "'") && !backslash) quote = c;
      if (pending !== null) {
        target = { fd: pending.fd, mode: pending.mode };
        pending = null;
      }
      curStart = i;
      if (quote === '') cur += c;
      inword = true;
    }
    backslash = false;
  }
  if (inword) finish();
  if (pending !== null) return { ok: false, error: 'illegal redirection', offset: pending.offset };
  if (quote !== '') return { ok: false, error: 'unbalanced quote', offset: curStart };
  if (backslash) return { ok: false, error: 'trailing backslash', offset: line.length - 1 };
  return { ok: true, argv, redirects };
}
