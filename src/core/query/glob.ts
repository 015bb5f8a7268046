/**
 * ChannelFinder glob patterns: `*` any run of characters, `?` exactly one, `\` escapes the next character; matched
 * case-insensitively against the whole value (as Elasticsearch's case-insensitive wildcard query does).
 */

/** A compiled glob: how to test a value, and what the directory can use to narrow a sorted scan. */
export interface Glob {
  /** The pattern as written (after trimming). */
  readonly pattern: string;
  /** The unescaped literal text before the first wildcard (the whole value when there is no wildcard). */
  readonly prefix: string;
  /** True when the pattern has no wildcard: it matches exactly `prefix`, case-insensitively. */
  readonly exact: boolean;
  /** True when the pattern is only stars: every value matches. */
  readonly matchAll: boolean;
  /** Whether `value` matches the whole pattern, case-insensitively. */
  test(value: string): boolean;
}

type Token = { readonly kind: 'lit'; readonly text: string } | { readonly kind: 'star' } | { readonly kind: 'one' };

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/g;

/** Compile one pattern. Never throws: every string is a valid glob (a trailing lone `\` is a literal backslash). */
export function compileGlob(pattern: string): Glob {
  const tokens = tokenize(pattern);
  const firstWild = tokens.findIndex((t) => t.kind !== 'lit');
  const literalTokens = firstWild === -1 ? tokens : tokens.slice(0, firstWild);
  const prefix = literalTokens.map((t) => (t.kind === 'lit' ? t.text : '')).join('');
  const exact = firstWild === -1;
  const matchAll = tokens.length > 0 && tokens.every((t) => t.kind === 'star');
  if (matchAll) return { pattern, prefix: '', exact: false, matchAll: true, test: () => true };
  const re = toRegExp(tokens);
  return { pattern, prefix, exact, matchAll: false, test: (value: string) => re.test(value) };
}

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit !== '') out.push({ kind: 'lit', text: lit });
    lit = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      lit += next ?? '\\';
      i++;
    } else if (c === '*') {
      flush();
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') {
      flush();
      out.push({ kind: 'one' });
    } else {
      lit += c;
    }
  }
  flush();
  return out;
}

// A leading or trailing star becomes a missing anchor: V8 then searches instead of backtracking over `.*`.
function toRegExp(tokens: readonly Token[]): RegExp {
  let start = 0;
  let end = tokens.length;
  const anchorStart = tokens[0]?.kind !== 'star';
  const anchorEnd = tokens.at(-1)?.kind !== 'star';
  if (!anchorStart) start++;
  if (!anchorEnd) end--;
  let src = anchorStart ? '^' : '';
  for (let i = start; i < end; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'lit') src += t.text.replace(REGEX_SPECIAL, '\\$&');
    else if (t.kind === 'star') src += '[\\s\\S]*';
    else src += '[\\s\\S]';
  }
  if (anchorEnd) src += '$';
  // Non-unicode `i`: one UTF-16 unit per `?`, and no non-ASCII character ever equals an ASCII one.
  return new RegExp(src, 'i');
}
