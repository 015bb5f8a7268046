/**
 * What the mirror feeds the directory: one change of one key of the layout, already decoded and validated.
 * `value: null` means the key was deleted. Events of one etcd revision are applied together.
 */
import type { Alive, Definition, IocInfo, StoredChannel, StoredRecord } from '../model.js';

/** One decoded change of the directory's source data. */
export type DirectoryEvent =
  | { readonly kind: 'iocInfo'; readonly iocId: string; readonly value: IocInfo | null }
  | { readonly kind: 'alive'; readonly iocId: string; readonly value: Alive | null }
  | { readonly kind: 'record'; readonly iocId: string; readonly name: string; readonly value: StoredRecord | null }
  /** A channel key written through the API; `modRevision` guards the next write of it (0 once deleted). */
  | { readonly kind: 'channel'; readonly name: string; readonly value: StoredChannel | null; readonly modRevision: number }
  | { readonly kind: 'propertyDef'; readonly name: string; readonly value: Definition | null; readonly modRevision: number }
  | { readonly kind: 'tagDef'; readonly name: string; readonly value: Definition | null; readonly modRevision: number };
