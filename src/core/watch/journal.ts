/**
 * A bounded in-memory journal of recent revisions and the channel names each changed, so that a watch stream can
 * resume after a disconnect without loss: every revision after `floor` is in it. Older ones are dropped (the floor
 * rises); a resume from below the floor gets a reset (re-list), never a silent gap.
 */

/** The names changed by one revision. */
export interface JournalEntry {
  readonly revision: number;
  readonly names: readonly string[];
}

/** Bounds of a journal: revisions kept, and names kept over all of them. */
export interface JournalLimits {
  readonly maxRevisions: number;
  readonly maxNames: number;
}

/** What a resume gets: the entries after a revision, or a reset when the journal no longer covers it. */
export type Since = { readonly kind: 'entries'; readonly entries: readonly JournalEntry[] } | { readonly kind: 'reset' };

/** Recent revisions → changed names. */
export class ChangeJournal {
  private entries: JournalEntry[] = [];
  private head = 0;
  private names = 0;
  /** Every change after this revision is recorded (a resume from below it must re-list). */
  floor = 0;
  /** The last revision recorded. */
  latest = 0;

  constructor(private readonly limits: JournalLimits = { maxRevisions: 100_000, maxNames: 2_000_000 }) {}

  /** Record a revision's changed names; `null` means anything may have changed (snapshot): the journal restarts. */
  record(revision: number, names: readonly string[] | null): void {
    this.latest = Math.max(this.latest, revision);
    if (names === null) {
      this.entries = [];
      this.head = 0;
      this.names = 0;
      this.floor = revision;
      return;
    }
    if (names.length === 0) return;
    this.entries.push({ revision, names });
    this.names += names.length;
    while (this.live > 1 && (this.live > this.limits.maxRevisions || this.names > this.limits.maxNames)) {
      const old = this.entries[this.head] as JournalEntry;
      this.head++;
      this.names -= old.names.length;
      this.floor = old.revision;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Extend the journal back to `floor` with the entries of revisions (floor, this.floor], read back from etcd history
   * after a start; false (nothing changed) unless they end exactly where the journal begins. Limits still apply.
   */
  backfill(floor: number, older: readonly JournalEntry[], upTo: number): boolean {
    if (upTo !== this.floor || floor >= this.floor) return false;
    const kept = older.filter((e) => e.revision > floor && e.revision <= upTo && e.names.length > 0);
    const live = this.entries.slice(this.head);
    this.entries = [...kept, ...live];
    this.head = 0;
    this.names += kept.reduce((n, e) => n + e.names.length, 0);
    this.floor = floor;
    while (this.live > 1 && (this.live > this.limits.maxRevisions || this.names > this.limits.maxNames)) {
      const old = this.entries[this.head] as JournalEntry;
      this.head++;
      this.names -= old.names.length;
      this.floor = old.revision;
    }
    return true;
  }

  /** The entries with revisions above `revision`, or a reset when some of them may have been dropped. */
  since(revision: number): Since {
    if (revision < this.floor) return { kind: 'reset' };
    const out: JournalEntry[] = [];
    // Entries are in revision order: binary search for the first one above `revision`.
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as JournalEntry).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.entries.length; i++) out.push(this.entries[i] as JournalEntry);
    return { kind: 'entries', entries: out };
  }

  private get live(): number {
    return this.entries.length - this.head;
  }
}
