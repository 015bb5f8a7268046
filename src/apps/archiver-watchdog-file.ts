/**
 * The watchdog file of an archiver node (`--watchdog-file`): `{node, token, validUntil}` telling local services until
 * when they may act (0: stop now). Written atomically (a temporary file renamed over it); writes never overlap.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/** The writer of one watchdog file (or of none, when the node has no `--watchdog-file`). */
export class WatchdogFile {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string | null, private readonly node: string, private readonly log: Logger) {}

  /**
   * Write the node's state after any write still under way; a failure is logged, never thrown. `state` is read when
   * this write's turn comes, so that a queued write carries the latest token and deadline.
   */
  write(state: () => { readonly token: string | null; readonly validUntil: number }): Promise<void> {
    const file = this.file;
    if (file === null) return Promise.resolve();
    this.writing = this.writing.then(() => this.writeNow(file, state()));
    return this.writing;
  }

  private async writeNow(file: string, state: { readonly token: string | null; readonly validUntil: number }): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ node: this.node, token: state.token, validUntil: state.validUntil }));
      await rename(tmp, file);
    } catch (err) {
      this.log.warn({ err, file }, 'watchdog file not written');
    }
  }
}
