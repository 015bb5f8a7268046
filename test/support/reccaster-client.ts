/**
 * A RecCaster client (the IOC side) written for the tests from the protocol (domain.md §3), independently of the
 * bridge's own codec: it hears announcements, connects, sends the greeting, IOC-wide infos, records with aliases,
 * info tags and recordDesc, and UploadDone, and answers pings. Like the C reccaster it sends each frame's header and
 * body in separate writes (`splitWrites`), and it can misbehave on request.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

/** One record as an IOC would cast it. */
export interface CastRecord {
  readonly name: string;
  readonly type: string;
  readonly desc?: string;
  readonly infos?: Readonly<Record<string, string>>;
  readonly aliases?: readonly string[];
}

/** A heard announcement. */
export interface HeardAnnouncement {
  readonly host: string;
  readonly port: number;
  readonly key: number;
}

/** Listen on UDP `port` (with address reuse, as IOCs do) for the first valid announcement. */
export function hearAnnouncement(port: number, timeoutMs = 10_000): Promise<HeardAnnouncement> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no announcement on UDP ${port} in ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('message', (msg, rinfo) => {
      if (msg.length < 16 || msg.readUInt16BE(0) !== 0x5243 || msg[2] !== 0) return;
      const addr = `${msg[4]}.${msg[5]}.${msg[6]}.${msg[7]}`;
      clearTimeout(timer);
      sock.close();
      resolve({ host: addr === '255.255.255.255' ? rinfo.address : addr, port: msg.readUInt16BE(8), key: msg.readUInt32BE(12) });
    });
    sock.bind(port, '0.0.0.0');
  });
}

/** A frame: magic "RC", id, body length, body. */
export function frameBytes(id: number, body: Buffer): [Buffer, Buffer] {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x5243, 0);
  h.writeUInt16BE(id, 2);
  h.writeUInt32BE(body.length, 4);
  return [h, body];
}

export function clientGreet(key: number): Buffer[] {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(key >>> 0, 4);
  return frameBytes(0x0001, b);
}

export function addRecord(recid: number, alias: boolean, type: string, name: string): Buffer[] {
  const t = Buffer.from(type, 'latin1');
  const n = Buffer.from(name, 'latin1');
  const b = Buffer.alloc(8 + t.length + n.length);
  b.writeUInt32BE(recid, 0);
  b.writeUInt8(alias ? 1 : 0, 4);
  b.writeUInt8(t.length, 5);
  b.writeUInt16BE(n.length, 6);
  t.copy(b, 8);
  n.copy(b, 8 + t.length);
  return frameBytes(0x0003, b);
}

export function addInfo(recid: number, key: string, value: string): Buffer[] {
  const k = Buffer.from(key, 'latin1');
  const v = Buffer.from(value, 'latin1');
  const b = Buffer.alloc(8 + k.length + v.length);
  b.writeUInt32BE(recid, 0);
  b.writeUInt8(k.length, 4);
  b.writeUInt16BE(v.length, 6);
  k.copy(b, 8);
  v.copy(b, 8 + k.length);
  return frameBytes(0x0006, b);
}

export function uploadDone(): Buffer[] {
  return frameBytes(0x0005, Buffer.alloc(4));
}

export function pong(nonce: number): Buffer[] {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(nonce >>> 0, 0);
  return frameBytes(0x0002, b);
}

/** Options of a simulated IOC. */
export interface ClientOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly records: readonly CastRecord[];
  /** Header and body in separate writes, as the C client does (default true; false batches everything). */
  readonly splitWrites?: boolean;
  /** Answer pings (default true). */
  readonly answerPings?: boolean;
}

/** The frames of a whole upload after the greeting: infos, records, UploadDone. */
export function uploadFrames(opts: ClientOptions, key: number): Buffer[] {
  const out: Buffer[] = [...clientGreet(key)];
  out.push(...addInfo(0, 'EPICS_VERSION', opts.env['EPICS_VERSION'] ?? 'EPICS 7.0.3.1'));
  for (const [k, v] of Object.entries(opts.env)) if (k !== 'EPICS_VERSION') out.push(...addInfo(0, k, v));
  let recid = 1;
  for (const r of opts.records) {
    const id = recid++;
    out.push(...addRecord(id, false, r.type, r.name));
    for (const a of r.aliases ?? []) out.push(...addRecord(id, true, '', a));
    for (const [k, v] of Object.entries(r.infos ?? {})) if (v !== '') out.push(...addInfo(id, k, v));
    if (r.desc !== undefined) out.push(...addInfo(id, 'recordDesc', r.desc));
  }
  out.push(...uploadDone());
  return out;
}

/** A connected simulated IOC. */
export class RecCasterClient {
  readonly socket: Socket;
  greeted: Promise<void>;
  /** Pings received so far. */
  pings = 0;
  /** Resolves when the bridge closes the connection. */
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);

  private constructor(socket: Socket, private readonly opts: ClientOptions) {
    this.socket = socket;
    let greet!: () => void;
    this.greeted = new Promise((r) => { greet = r; });
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + len) break;
        const id = this.buf.readUInt16BE(2);
        const body = this.buf.subarray(8, 8 + len);
        this.buf = this.buf.subarray(8 + len);
        if (id === 0x8001) greet();
        if (id === 0x8002) {
          this.pings++;
          if (opts.answerPings !== false) this.write(pong(body.readUInt32BE(0)));
        }
      }
    });
  }

  /** Connect to a bridge. */
  static async connect(host: string, port: number, opts: ClientOptions): Promise<RecCasterClient> {
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RecCasterClient(socket, opts);
  }

  /** Send frames (each buffer its own write when splitWrites, else all at once). */
  write(parts: readonly Buffer[]): void {
    if (this.socket.destroyed) return;
    if (this.opts.splitWrites === false) this.socket.write(Buffer.concat(parts));
    else for (const p of parts) this.socket.write(p);
  }

  /** Greeting, infos, every record and UploadDone. */
  async upload(key = 0): Promise<void> {
    await this.greeted;
    this.write(uploadFrames(this.opts, key));
  }

  /** Close the connection as an IOC going away would. */
  close(): void {
    this.socket.destroy();
  }
}

/** Where a simulated IOC can connect: a bridge's address and server key. */
export interface BridgeAddress {
  readonly host: string;
  readonly port: number;
  readonly key: number;
}

/**
 * An IOC that does what the reccaster does when its server closes the connection: after `retryMs` it connects
 * again — to the next of `bridges` in turn, as it would to whichever bridge it hears next — and uploads everything
 * anew, until `stop()`.
 */
export class ReconnectingIoc {
  /** Connections made so far. */
  connections = 0;
  current: RecCasterClient | null = null;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly bridges: readonly BridgeAddress[], private readonly opts: ClientOptions, private readonly retryMs = 300) {
    this.loop = this.run();
  }

  /** Stop reconnecting and close the current connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const b = this.bridges[i % this.bridges.length]!;
      try {
        const c = await RecCasterClient.connect(b.host, b.port, this.opts);
        this.current = c;
        this.connections++;
        if (this.stopped) c.close();
        await Promise.race([c.upload(b.key), c.closed]); // a bridge that closes before its greeting: try again
        await c.closed;
      } catch {
        // refused: try again
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.retryMs));
    }
  }
}
