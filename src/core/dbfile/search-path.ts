/**
 * File lookup as the IOC's dbOpenFile: a name containing `/` is opened as is (relative to the current directory);
 * any other name is tried in each directory of the search path (EPICS_DB_INCLUDE_PATH, `path`, `addpath`).
 */
import { posix } from 'node:path';

/** Split a `:`-separated path list as dbAddPath: blanks trimmed, empty entries mean `.`. */
export function splitSearchPath(list: string): string[] {
  const dirs: string[] = [];
  for (const part of list.split(':')) {
    const t = part.trim();
    dirs.push(t === '' ? '.' : t);
  }
  // "a:" or ":" leave trailing empty entries that dbAddPath turns into one "."
  return dirs.filter((d, i) => d !== '.' || dirs.indexOf('.') === i);
}

/** Join `p` to directory `cwd` unless `p` is absolute; the result is normalised. */
export function resolveIn(cwd: string, p: string): string {
  return posix.isAbsolute(p) ? posix.normalize(p) : posix.normalize(posix.join(cwd, p));
}

/** The candidate paths for `name`, in the order the IOC tries them. */
export function candidates(name: string, searchPath: readonly string[], cwd: string): string[] {
  if (searchPath.length === 0 || name.includes('/') || name.includes('\\')) return [resolveIn(cwd, name)];
  return searchPath.map((dir) => resolveIn(cwd, posix.join(dir, name)));
}
