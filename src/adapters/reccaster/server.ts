/**
 * The bridge's TCP server: one RecCaster session per connection (decoder and state table from core/reccaster),
 * with the timers the protocol needs — a ping after `pingIntervalMs` without traffic and after UploadDone, the
 * connection closed when no pong comes within another interval — plus a deadline for the ClientGreet and for a frame
 * left half-sent, and limits on connections in total and per peer address. What a session publishes is the sink's
 * business (the app wires it to etcd); the server pauses the socket while the sink is behind.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isPvsError, messageOf } from '../../core/errors.js';
import { FrameDecoder, DEFAULT_DECODER_LIMITS, type DecoderLimits } from '../../core/reccaster/frame-decoder.js';
import { encodePing, encodeServerGreet } from '../../core/reccaster/messages.js';
import { RecCasterSession, DEFAULT_SESSION_LIMITS, type IocIdentity, type SessionLimits } from '../../core/reccaster/session.js';
import type { IocRecord } from '../../core/model.js';

/** What the server tells the app about one connection. Calls come in protocol order. */
export interface SessionSink {
  identity(identity: IocIdentity): void;
  records(records: readonly IocRecord[]): void;
  done(records: readonly IocRecord[], names: ReadonlySet<string>): void;
  /** The connection is gone (by the IOC, a violation, a timeout or `control.close`). Called exactly once. */
  closed(reason: string): void;
  /** Records received and not yet published; above the server's high-water mark the socket is paused. */
  backlog(): number;
}

/** What the app may do with one connection. */
export interface SessionControl {
  readonly peer: string;
  readonly peerAddress: string;
  /** Close the connection, logging `reason`. */
  close(reason: string): void;
  /** Re-check the sink's backlog and resume reading when it has fallen (call when it shrinks). */
  progress(): void;
}

/** Options of the server. */
export interface RecCasterServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly newSink: (control: SessionControl) => SessionSink;
  readonly pingIntervalMs?: number;
  /** Deadline for a frame once its first byte arrived, and for the ClientGreet (default 15 s). */
  readonly frameTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly maxPerPeer?: number;
  /** Pause a socket while the sink holds more records than this (default 20 000), resume below a quarter. */
  readonly highWater?: number;
  readonly decoderLimits?: DecoderLimits;
  readonly sessionLimits?: SessionLimits;
}

/** Listens for IOCs until `close()`. */
export class RecCasterServer {
  private server: Server | null = null;
  private readonly conns = new Set<Connection>();
  private readonly perPeer = new Map<string, number>();
  private readonly log: Logger;
  /** Connections refused by the limits so far. */
  refused = 0;

  constructor(private readonly opts: RecCasterServerOptions) {
    this.log = opts.log.child({ component: 'reccaster-server' });
  }

  /** The bound port (after `listen`). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** Open connections. */
  get connections(): number {
    return this.conns.size;
  }

  /** Bind and listen; rejects when the address is taken. */
  async listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = (this.opts.maxConnections ?? 4096) + 64; // our own limit answers first, with a log line
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err: messageOf(err) }, 'server error'));
    this.server = server;
  }

  /** Stop listening and close every connection (each sink gets `closed`). */
  async close(): Promise<void> {
    for (const c of [...this.conns]) c.close('bridge shutting down');
    await new Promise<void>((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
    this.server = null;
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    const peer = `${address}:${socket.remotePort ?? 0}`;
    const max = this.opts.maxConnections ?? 4096;
    const maxPeer = this.opts.maxPerPeer ?? 512;
    const fromPeer = this.perPeer.get(address) ?? 0;
    if (this.conns.size >= max || fromPeer >= maxPeer) {
      this.refused++;
      // One line per refusal would let a flood fill the log: say it for the first and every 100th.
      if (this.refused === 1 || this.refused % 100 === 0) {
        this.log.warn({ peer, open: this.conns.size, fromPeer, refused: this.refused }, 'connection refused: too many connections');
      }
      socket.destroy();
      return;
    }
    this.perPeer.set(address, fromPeer + 1);
    const conn = new Connection(socket, peer, address, this.opts, this.log, () => {
      this.conns.delete(conn);
      const n = (this.perPeer.get(address) ?? 1) - 1;
      if (n <= 0) this.perPeer.delete(address);
      else this.perPeer.set(address, n);
    });
    this.conns.add(conn);
  }
}

class Connection {
  private readonly decoder: FrameDecoder;
  private readonly session: RecCasterSession;
  private readonly sink: SessionSink;
  private readonly log: Logger;
  private ticker: NodeJS.Timeout | null = null;
  private frameTimer: NodeJS.Timeout | null = null;
  private lastHeard = Date.now();
  private pingSentAt = 0;
  private readonly pingMs: number;
  private greeted = false;
  private awaitingPong: number | null = null;
  private pingSoon = false;
  private nonce = 1;
  private paused = false;
  private yielding = false;
  private closed = false;
  private readonly highWater: number;

  constructor(
    private readonly socket: Socket, readonly peer: string, peerAddress: string,
    opts: RecCasterServerOptions, parentLog: Logger, private readonly onGone: () => void,
  ) {
    this.log = parentLog.child({ peer });
    this.decoder = new FrameDecoder(opts.decoderLimits ?? DEFAULT_DECODER_LIMITS);
    this.session = new RecCasterSession(peerAddress, opts.sessionLimits ?? DEFAULT_SESSION_LIMITS);
    this.highWater = opts.highWater ?? 20_000;
    const frameMs = opts.frameTimeoutMs ?? 15_000;
    const control: SessionControl = {
      peer, peerAddress,
      close: (reason) => this.close(reason),
      progress: () => this.checkBacklog(),
    };
    this.sink = opts.newSink(control);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk, frameMs));
    socket.on('end', () => this.close('IOC closed the connection'));
    socket.on('error', (err) => this.close(`socket error: ${messageOf(err)}`));
    socket.on('close', () => this.close('connection closed'));
    socket.write(encodeServerGreet());
    // Until the ClientGreet the frame deadline applies: a peer that connects and says nothing is dropped.
    this.armFrameTimer(frameMs, 'no ClientGreet in time');
    this.pingMs = opts.pingIntervalMs ?? 5000;
    this.ticker = setInterval(() => this.tick(), Math.max(50, this.pingMs / 2));
    this.log.debug({}, 'IOC connected');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    if (this.frameTimer !== null) clearTimeout(this.frameTimer);
    this.socket.destroy();
    this.onGone();
    this.sink.closed(reason);
  }

  private onData(chunk: Buffer, frameMs: number): void {
    if (this.closed) return;
    this.lastHeard = Date.now();
    const { messages, violation } = this.decoder.push(chunk);
    // The records a chunk finishes go to the sink together (a chunk holds hundreds): one hand-over, not one each.
    let finished: IocRecord[] = [];
    let handed = 0;
    const handOver = (): void => {
      if (finished.length === 0) return;
      this.sink.records(finished);
      handed += finished.length;
      finished = [];
    };
    for (const msg of messages) {
      let effects;
      try {
        effects = this.session.receive(msg);
      } catch (err) {
        handOver();
        this.protocolError(err);
        return;
      }
      for (const e of effects) {
        switch (e.kind) {
          case 'identity': this.sink.identity(e.identity); break;
          case 'records':
            for (const r of e.records) finished.push(r);
            break;
          case 'done':
            handOver();
            this.sink.done(e.records, e.names);
            this.pingSoon = true; // the protocol pings after UploadDone
            break;
          case 'refused': this.log.warn({ reason: e.reason }, 'RecCaster frame refused'); break;
          case 'pong':
            if (e.nonce === this.awaitingPong) this.awaitingPong = null;
            break;
          default: e satisfies never;
        }
        if (this.closed) return;
      }
    }
    handOver();
    if (this.closed) return;
    if (violation !== undefined) {
      this.protocolError(violation);
      return;
    }
    if (this.session.state === 'greeting') return; // the greet deadline stays armed
    if (!this.greeted) {
      this.greeted = true;
      if (this.frameTimer !== null) clearTimeout(this.frameTimer);
      this.frameTimer = null;
    }
    if (this.decoder.pending > 0) this.armFrameTimer(frameMs, 'frame left half-sent');
    else if (this.frameTimer !== null) {
      clearTimeout(this.frameTimer);
      this.frameTimer = null;
    }
    this.checkBacklog();
    if (handed > 0) this.yieldAfterChunk();
    if (this.pingSoon) {
      this.pingSoon = false;
      this.ping();
    }
  }

  // After a chunk that handed records to the sink, read the next one only once the event loop has gone round:
  // libuv reads a busy socket up to 32 times in a row, so a fast IOC's next ~2 MB would be decoded back to back
  // while other IOCs' sockets and the sink's finished etcd transactions wait. So every connection gets one chunk
  // per turn.
  private yieldAfterChunk(): void {
    if (this.paused || this.yielding || this.closed) return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      if (!this.paused && !this.closed) this.socket.resume();
    });
  }

  private armFrameTimer(ms: number, reason: string): void {
    if (this.frameTimer !== null) return; // the deadline runs from the frame's first byte, not its last
    this.frameTimer = setTimeout(() => {
      const why = `${reason} within ${ms} ms`;
      this.log.warn({ reason: why }, 'RecCaster peer too slow: closing the connection');
      this.close(why);
    }, ms);
  }

  private protocolError(err: unknown): void {
    const reason = isPvsError(err, 'PVS_PROTOCOL_REMOTE') ? err.message : messageOf(err);
    this.log.warn({ reason }, 'RecCaster protocol violation: closing the connection');
    this.close(`protocol violation: ${reason}`);
  }

  private checkBacklog(): void {
    if (this.closed) return;
    const backlog = this.sink.backlog();
    if (!this.paused && backlog > this.highWater) {
      this.paused = true;
      this.socket.pause();
    } else if (this.paused && backlog <= this.highWater / 4) {
      this.paused = false;
      this.socket.resume();
    }
  }

  // Like the reference recceiver: a ping once the IOC has been silent for the interval (and after UploadDone), and
  // the connection closed when its pong has not come within another interval. The reccaster gives up on a server
  // silent for 4 × its timeout, so an idle IOC hears a ping at least every 1.5 intervals.
  private tick(): void {
    if (this.paused) return; // a paused socket hears nothing by our choice: not the IOC's silence
    const now = Date.now();
    if (this.awaitingPong !== null) {
      if (now - this.pingSentAt >= this.pingMs) {
        this.log.warn({}, 'no pong from the IOC in time: closing the connection');
        this.close('ping timeout');
      }
      return;
    }
    if (now - this.lastHeard >= this.pingMs) this.ping();
  }

  private ping(): void {
    if (this.awaitingPong !== null || this.closed) return;
    this.awaitingPong = this.nonce++ >>> 0;
    this.pingSentAt = Date.now();
    this.socket.write(encodePing(this.awaitingPong));
  }
}
