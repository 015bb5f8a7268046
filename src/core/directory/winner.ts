/**
 * The winner rule: which of the records serving one channel name (as record or alias, from one IOC or several)
 * the channel follows. Pure and total; the channel table re-runs it for every slot whose candidates changed.
 */
import { compareNames } from './name-order.js';
import type { RecordNode } from './nodes.js';

/**
 * The candidate a name follows: Active before Inactive, then the latest IOC upload time, then the smaller iocId,
 * then the record itself before an alias of another record, then the smaller record name.
 */
export function pickWinner(name: string, cands: readonly RecordNode[]): RecordNode {
  let best = cands[0] as RecordNode;
  for (let i = 1; i < cands.length; i++) {
    const c = cands[i] as RecordNode;
    if (beats(name, c, best)) best = c;
  }
  return best;
}

function beats(name: string, a: RecordNode, b: RecordNode): boolean {
  const aa = a.active;
  if (aa !== b.active) return aa;
  if (a.ioc.updatedMs !== b.ioc.updatedMs) return a.ioc.updatedMs > b.ioc.updatedMs;
  if (a.ioc.id !== b.ioc.id) return compareNames(a.ioc.id, b.ioc.id) < 0;
  const aOwn = a.name === name;
  if (aOwn !== (b.name === name)) return aOwn;
  return compareNames(a.name, b.name) < 0;
}
