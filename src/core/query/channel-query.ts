/**
 * A parsed ChannelFinder channel query (docs/api.md): AND over terms, OR inside each term, plus paging.
 * Produced by parseChannelQuery, evaluated by the directory.
 */
import type { Glob } from './glob.js';

/** `~name=a|b`: the channel name matches one of the globs. Several name terms are ANDed. */
export interface NameTerm {
  readonly anyOf: readonly Glob[];
}

/** `~tag=a|b` (or `~tag!=a|b`): the channel has (or has none) of the matching tags. Several are ANDed. */
export interface TagTerm {
  readonly anyOf: readonly Glob[];
  readonly negated: boolean;
}

/**
 * One alternative of a property term: `has` = some property whose name matches has a value that matches
 * (`negated`: that does not match); `lacks` (written `prop!=*`) = no property whose name matches.
 */
export type ValueTest =
  | { readonly kind: 'has'; readonly value: Glob; readonly negated: boolean }
  | { readonly kind: 'lacks' };

/** `PROP=a|b` (one query key, possibly repeated): the property name is itself a glob; alternatives are ORed. */
export interface PropertyTerm {
  readonly key: string;
  readonly name: Glob;
  readonly anyOf: readonly ValueTest[];
}

/** The whole query. `size`/`from` are validated; `searchAfter` keeps only names strictly after it (byte order). */
export interface ChannelQuery {
  readonly names: readonly NameTerm[];
  readonly tags: readonly TagTerm[];
  readonly properties: readonly PropertyTerm[];
  readonly size: number;
  readonly from: number;
  readonly searchAfter: string | null;
  readonly trackTotalHits: boolean;
}
