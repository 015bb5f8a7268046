/**
 * How an archiver agent follows its group in etcd: reads are serialized (a read asked for while one is in flight
 * runs once after it), and their answers are passed on in revision order only, since etcd reads may come back out
 * of order; a revision the agent learnt by itself (its own campaign) counts as seen.
 */
import type { Logger } from 'pino';
import type { ArchiverGroupStore } from '../adapters/etcd/archiver-election.js';
import { isEtcdRefusal } from '../adapters/etcd/errors.js';
import type { GroupStatus } from '../core/election/records.js';
import { messageOf, type PvsError } from '../core/errors.js';

/** Reads the group on request and hands each newer state to `onGroup`. */
export class GroupReader {
  private seen = 0n;
  private inFlight = false;
  private again = false;

  constructor(private readonly store: ArchiverGroupStore, private readonly log: Logger,
    private readonly onGroup: (g: GroupStatus) => void) {}

  /** Read the group again (after a watch event, and periodically as a backstop). */
  refresh(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.store.read((key, err) => this.log.warn({ key, err }, 'bad value in archiver group'))
      .then((g) => {
        const rev = BigInt(g.revision);
        if (rev <= this.seen) return; // an older state than one already passed on
        this.seen = rev;
        this.onGroup(g);
      }, (err: unknown) => {
        if (isEtcdRefusal(err)) this.log.error({ code: (err as PvsError).code, error: messageOf(err) }, 'etcd refused the group read');
        else this.log.debug({ err }, 'group read failed');
      })
      .finally(() => {
        this.inFlight = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  /** A revision known without reading (the agent's own write): states older than it are ignored. */
  saw(revision: bigint): void {
    if (revision > this.seen) this.seen = revision;
  }
}
