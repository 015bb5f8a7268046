/** The node:fs implementation of the parser's FileSource: synchronous whole-file reads, missing files → undefined. */
import { readFileSync } from 'node:fs';
import type { FileSource } from '../../core/dbfile/file-source.js';

/**
 * A FileSource reading UTF-8 text from the local file system; paths are relative to the process directory. Any
 * error with an errno code (missing, no permission, EIO or ESTALE of a network file system…) means "cannot be
 * read": the parser reports it and the uploader keeps the records last published from that file.
 */
export function nodeFileSource(): FileSource {
  const failures = new Map<string, string>();
  return {
    readText(path: string): string | undefined {
      try {
        const text = readFileSync(path, 'utf8');
        failures.delete(path);
        return text;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string') throw err;
        failures.set(path, code);
        return undefined;
      }
    },
    failure: (path) => failures.get(path),
  };
}
