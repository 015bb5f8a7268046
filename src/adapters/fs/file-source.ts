/** The node:fs implementation of the parser's FileSource: synchronous whole-file reads, missing files → undefined. */
import { readFileSync } from 'node:fs';
import type { FileSource } from '../../core/dbfile/file-source.js';

/** Errors that mean "no such readable file" rather than a fault worth raising. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'ELOOP', 'ENAMETOOLONG']);

/** A FileSource reading UTF-8 text from the local file system; paths are relative to the process directory. */
export function nodeFileSource(): FileSource {
  return {
    readText(path: string): string | undefined {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && ABSENT.has(code)) return undefined;
        throw err;
      }
    },
  };
}
