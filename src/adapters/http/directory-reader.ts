/** What the HTTP read API needs from the directory (the core Directory implements it). */
import type { Directory } from '../../core/directory/directory.js';

/** The read side of the directory. */
export type DirectoryReader = Pick<Directory,
  'owner' | 'size' | 'revision' | 'get' | 'search' | 'count' | 'propertyNames' | 'tagNames' | 'conflicts'>;
