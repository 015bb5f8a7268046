/**
 * The bridge's UDP announcer: one announcement at once, then every interval, to each target address (a broadcast
 * address reaches every IOC on that network bound to the port; domain.md §3).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { messageOf } from '../../core/errors.js';
import { encodeAnnouncement, type Announcement } from '../../core/reccaster/messages.js';

/** Where to send announcements. */
export interface AnnounceTarget {
  readonly host: string;
  readonly port: number;
}

/** Options of an announcer. */
export interface AnnouncerOptions {
  readonly targets: readonly AnnounceTarget[];
  readonly announcement: Announcement;
  readonly intervalMs: number;
  readonly log: Logger;
}

/** Sends announcements until `close()`. A failed send is logged (at most once per target until one succeeds). */
export class Announcer {
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly failing = new Set<string>();
  private readonly log: Logger;
  /** Datagrams sent so far. */
  sent = 0;

  constructor(private readonly opts: AnnouncerOptions) {
    this.log = opts.log.child({ component: 'announcer' });
  }

  /** Bind a UDP socket (any port), enable broadcast, send the first announcement. */
  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('error', (err) => this.log.warn({ err: messageOf(err) }, 'announcer socket error'));
    await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
    socket.setBroadcast(true);
    socket.unref();
    this.socket = socket;
    this.announce();
    this.timer = setInterval(() => this.announce(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Send one announcement to every target now. */
  announce(): void {
    const socket = this.socket;
    if (socket === null) return;
    const bytes = encodeAnnouncement(this.opts.announcement);
    for (const t of this.opts.targets) {
      const name = `${t.host}:${t.port}`;
      socket.send(bytes, t.port, t.host, (err) => {
        if (err !== null) {
          if (!this.failing.has(name)) this.log.warn({ target: name, err: messageOf(err) }, 'announcement could not be sent');
          this.failing.add(name);
        } else {
          this.sent++;
          this.failing.delete(name);
        }
      });
    }
  }

  /** Stop announcing. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
  }
}
