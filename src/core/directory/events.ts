/**
 * What the mirror feeds the directory: one change of one key of the layout, already decoded and validated.
 * `value: null` means the key was deleted. Events of one etcd revision are applied together.
 */
import type { Alive, IocInfo, StoredRecord } from '../model.js';

/** One decoded change of the directory's source data. */
export type DirectoryEvent =
  | { readonly kind: 'iocInfo'; readonly iocId: string; readonly value: IocInfo | null }
  | { readonly kind: 'alive'; readonly iocId: string; readonly value: Alive | null }
  | { readonly kind: 'record'; readonly iocId: string; readonly name: string; readonly value: StoredRecord | null };
