/**
 * The IOC side of the protocol, for IOCs without the reccaster module (and the demo): hears the first
 * announcement on a UDP port, connects, uploads the IOC-wide infos and every record as reccaster does, answers
 * pings, and after losing the connection backs off and listens again (domain.md §3). Frames are pre-encoded.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { messageOf } from '../../core/errors.js';
import { HEADER_BYTES, MAGIC, MSG, decodeAnnouncement, encodeClientGreet, encodePong } from '../../core/reccaster/messages.js';

/** Options of a caster: the upload's frames after the ClientGreet, where to listen, how long to back off. */
export interface CasterOptions {
  readonly frames: readonly Uint8Array[];
  readonly announcePort: number;
  readonly log: Logger;
  readonly backoffMs?: number;
}

/** Keeps casting until `stop()`. */
export class Caster {
  private stopped = false;
  private socket: Socket | null = null;
  private closeUdp: (() => void) | null = null;

  constructor(private readonly opts: CasterOptions) {}

  /** Run forever (until stop). */
  async run(): Promise<void> {
    let errors = 0;
    while (!this.stopped) {
      const ann = await this.hear();
      if (ann === null) break;
      const ok = await this.session(ann.host, ann.port, ann.key);
      errors = ok ? 0 : errors + 1;
      const delay = Math.min(errors, 10) * (this.opts.backoffMs ?? 5000) + Math.random() * 2000;
      if (!this.stopped) await new Promise((r) => setTimeout(r, delay));
    }
  }

  stop(): void {
    this.stopped = true;
    this.closeUdp?.();
    this.socket?.destroy();
  }

  private hear(): Promise<{ host: string; port: number; key: number } | null> {
    return new Promise((resolve) => {
      const udp = createSocket({ type: 'udp4', reuseAddr: true });
      const done = (v: { host: string; port: number; key: number } | null): void => {
        this.closeUdp = null;
        udp.close();
        resolve(v);
      };
      this.closeUdp = () => done(null);
      udp.on('error', (err) => {
        this.opts.log.error({ err: messageOf(err), port: this.opts.announcePort }, 'cannot listen for announcements');
        done(null);
      });
      udp.on('message', (msg, rinfo) => {
        const a = decodeAnnouncement(msg);
        if (a === null) return;
        done({ host: a.address === '255.255.255.255' ? rinfo.address : a.address, port: a.port, key: a.serverKey });
      });
      udp.bind(this.opts.announcePort, '0.0.0.0');
    });
  }

  // One connection; resolves true when it ended after a complete upload, false on an early failure.
  private session(host: string, port: number, key: number): Promise<boolean> {
    return new Promise((resolve) => {
      const log = this.opts.log.child({ bridge: `${host}:${port}` });
      const s = connect({ host, port });
      this.socket = s;
      let buf = Buffer.alloc(0);
      let uploaded = false;
      s.setNoDelay(true);
      s.on('error', (err) => log.warn({ err: messageOf(err) }, 'connection to the bridge failed'));
      s.on('close', () => {
        this.socket = null;
        if (!this.stopped) log.warn({}, 'connection to the bridge lost: listening for announcements again');
        resolve(uploaded);
      });
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= HEADER_BYTES) {
          if (buf.readUInt16BE(0) !== MAGIC) {
            s.destroy();
            return;
          }
          const len = buf.readUInt32BE(4);
          if (buf.length < HEADER_BYTES + len) break;
          const id = buf.readUInt16BE(2);
          const body = buf.subarray(HEADER_BYTES, HEADER_BYTES + len);
          buf = buf.subarray(HEADER_BYTES + len);
          if (id === MSG.ServerGreet && !uploaded) {
            uploaded = true;
            s.write(encodeClientGreet(key));
            for (const f of this.opts.frames) s.write(f);
            log.info({ frames: this.opts.frames.length }, 'uploaded to the bridge');
          } else if (id === MSG.Ping && body.length >= 4) {
            s.write(encodePong(body.readUInt32BE(0)));
          }
        }
      });
    });
  }
}
