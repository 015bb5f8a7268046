/**
 * Parsed channel queries by their raw query string: clients repeat the same few queries, and a parsed query
 * (compiled globs included) is immutable and independent of the directory's state, so it can be reused as is.
 * Only the parsing is cached — every request still searches the directory as it stands.
 */
import type { ChannelQuery } from '../../core/query/channel-query.js';

// Distinct query strings kept (the cache starts over past this), and the longest one cached.
const MAX_ENTRIES = 512;
const MAX_KEY_LENGTH = 2048;

/** A bounded map from raw query string to its parsed query. */
export class QueryCache {
  private readonly entries = new Map<string, ChannelQuery>();

  /** The parsed form of the query string of `url`: from the cache, or `parse()` (cached when it succeeds). */
  get(url: string, parse: () => ChannelQuery): ChannelQuery {
    const at = url.indexOf('?');
    const key = at < 0 ? '' : url.slice(at + 1);
    if (key.length > MAX_KEY_LENGTH) return parse();
    let q = this.entries.get(key);
    if (q === undefined) {
      q = parse();
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, q);
    }
    return q;
  }
}
