/** A string interner: repeated values (record types, info values) share one instance in memory. */

/** Returns one canonical instance per distinct string. */
export class Interner {
  private readonly pool = new Map<string, string>();

  /** The canonical instance equal to `s`. */
  intern(s: string): string {
    const hit = this.pool.get(s);
    if (hit !== undefined) return hit;
    this.pool.set(s, s);
    return s;
  }

  /** Forget every instance. */
  clear(): void {
    this.pool.clear();
  }
}
