/**
 * A put or a delete of one etcd key: what the upload planner plans (core/upload/plan.ts), what the etcd adapter
 * commits in one transaction (adapters/etcd/kv.ts), and what the write routes' change sets become.
 */
export type WriteOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly type: 'delete'; readonly key: string };
