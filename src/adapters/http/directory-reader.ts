/** What the HTTP API needs from the directory (the core Directory implements it). */
import type { Directory } from '../../core/directory/directory.js';

/** The read side of the directory (writes read it too, to plan what to change). */
export type DirectoryReader = Pick<Directory,
  'owner' | 'size' | 'revision' | 'get' | 'getJson' | 'search' | 'startSearch' | 'searchJson' | 'startSearchJson' | 'count' | 'startCount' | 'propertyNames' | 'tagNames' | 'conflicts'
  | 'stored' | 'servedByIoc' | 'isManagedProperty' | 'propertyDefinition' | 'tagDefinition'
  | 'channelsWithProperty' | 'channelsWithTag' | 'matcher' | 'derivation'>;
