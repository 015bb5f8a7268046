/**
 * How the parser reads files: a synchronous, side-effect-free view of a file system. The node:fs implementation
 * lives in src/adapters/fs; tests use memoryFileSource.
 */

/** Reads whole text files; `undefined` means there is no such (readable) file. */
export interface FileSource {
  readText(path: string): string | undefined;
  /** Why the last read of `path` gave `undefined` (an errno code such as `ENOENT`), when the source knows. */
  failure?(path: string): string | undefined;
}

/** A FileSource over an in-memory map of path → content (paths compared exactly as given). */
export function memoryFileSource(files: Readonly<Record<string, string>>): FileSource {
  const map = new Map(Object.entries(files));
  return { readText: (path) => map.get(path) };
}
