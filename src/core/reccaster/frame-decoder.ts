/**
 * Sans-I/O decoder of the IOC → bridge stream: `push(chunk)` returns the messages completed by that chunk.
 * Frames may be split anywhere across TCP segments (the C client sends header and body separately); a frame is
 * copied only when it straddles chunks. Unknown ids are skipped without buffering their body; a bad magic, an
 * oversized length or a body inconsistent with its own lengths is a protocol violation (the caller closes).
 */
import { PvsError } from '../errors.js';
import { type ClientMessage, HEADER_BYTES, MAGIC, MSG } from './messages.js';

/** Limits of the decoder. */
export interface DecoderLimits {
  /** Largest body of a known message (AddRecord's name and AddInfo's value are u16-long: 65 535 + fields). */
  readonly maxBody: number;
  /** Largest body of an unknown message that is skipped rather than treated as an attack. */
  readonly maxSkip: number;
}

/** Enough for the largest well-formed AddInfo (8 + 255 + 65 535 bytes). */
export const DEFAULT_DECODER_LIMITS: DecoderLimits = { maxBody: 8 + 255 + 65_535, maxSkip: 1024 * 1024 };

/** Result of one push: the messages completed, and the violation that ends the stream, if any. */
export interface DecodeResult {
  readonly messages: ClientMessage[];
  readonly violation?: PvsError;
}

/** Decodes frames; after a violation every further push returns nothing. */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private skip = 0;
  private broken = false;

  constructor(private readonly limits: DecoderLimits = DEFAULT_DECODER_LIMITS) {}

  /** Bytes of an incomplete frame held (a peer that stops mid-frame keeps this above 0). */
  get pending(): number {
    return this.buf.length + this.skip;
  }

  /** Feed bytes; returns the messages they complete (and a violation, after which the stream is dead). */
  push(chunk: Uint8Array): DecodeResult {
    const messages: ClientMessage[] = [];
    if (this.broken) return { messages };
    let data = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
    }
    if (this.buf.length > 0) {
      const joined = new Uint8Array(this.buf.length + data.length);
      joined.set(this.buf);
      joined.set(data, this.buf.length);
      data = joined;
    }
    let off = 0;
    while (data.length - off >= HEADER_BYTES) {
      const magic = u16(data, off);
      const id = u16(data, off + 2);
      const len = u32(data, off + 4);
      if (magic !== MAGIC) return this.fail(messages, `bad magic 0x${magic.toString(16).padStart(4, '0')} (expected 0x5243)`);
      const known = KNOWN.has(id);
      if (!known) {
        if (len > this.limits.maxSkip) return this.fail(messages, `message 0x${id.toString(16)} of ${len} bytes exceeds ${this.limits.maxSkip}`);
        messages.push({ kind: 'Refused', id, reason: `unknown message id 0x${id.toString(16).padStart(4, '0')} skipped` });
        const avail = data.length - off - HEADER_BYTES;
        if (avail < len) {
          this.skip = len - avail;
          off = data.length;
          break;
        }
        off += HEADER_BYTES + len;
        continue;
      }
      if (len > this.limits.maxBody) return this.fail(messages, `message 0x${id.toString(16)} of ${len} bytes exceeds ${this.limits.maxBody}`);
      if (data.length - off - HEADER_BYTES < len) break;
      const body = data.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
      off += HEADER_BYTES + len;
      const msg = decodeBody(id, body);
      if (typeof msg === 'string') return this.fail(messages, msg);
      messages.push(msg);
    }
    // Keep the incomplete tail (a copy, so the caller's chunk can be reused).
    this.buf = off >= data.length ? new Uint8Array(0) : data.slice(off);
    return { messages };
  }

  private fail(messages: ClientMessage[], reason: string): DecodeResult {
    this.broken = true;
    this.buf = new Uint8Array(0);
    return { messages, violation: new PvsError('PVS_PROTOCOL_REMOTE', reason) };
  }
}

const KNOWN = new Set<number>([MSG.ClientGreet, MSG.Pong, MSG.AddRecord, MSG.DelRecord, MSG.UploadDone, MSG.AddInfo]);

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

// Checked to be ASCII first, so any single-byte decoding gives the same string.
const ascii = new TextDecoder('latin1');

/** Printable ASCII without space: record names, types and info keys. */
function nameText(b: Uint8Array): string | null {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x21 || c > 0x7e) return null;
  }
  return ascii.decode(b);
}

/** Printable ASCII with space and tab: info values (DESC, environment). */
function valueText(b: Uint8Array): string | null {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return null;
  }
  return ascii.decode(b);
}

// A well-formed frame decodes to a message (or a Refused one for bad text); a malformed one to the reason.
function decodeBody(id: number, b: Uint8Array): ClientMessage | string {
  switch (id) {
    case MSG.ClientGreet:
      if (b.length < 8) return `ClientGreet of ${b.length} bytes (expected 8)`;
      return { kind: 'ClientGreet', version: b[0]!, type: b[1]!, serverKey: u32(b, 4) };
    case MSG.Pong:
      if (b.length < 4) return `Pong of ${b.length} bytes (expected 4)`;
      return { kind: 'Pong', nonce: u32(b, 0) };
    case MSG.DelRecord:
      if (b.length < 4) return `DelRecord of ${b.length} bytes (expected 4)`;
      return { kind: 'DelRecord', recid: u32(b, 0) };
    case MSG.UploadDone:
      return { kind: 'UploadDone' };
    case MSG.AddRecord: {
      if (b.length < 8) return `AddRecord of ${b.length} bytes (expected at least 8)`;
      const recid = u32(b, 0);
      const kind = b[4]!;
      const tlen = b[5]!;
      const nlen = u16(b, 6);
      if (8 + tlen + nlen !== b.length) return `AddRecord lengths ${tlen}+${nlen} do not match its body of ${b.length} bytes`;
      if (kind > 1) return { kind: 'Refused', id, reason: `AddRecord of unknown kind ${kind}` };
      const type = nameText(b.subarray(8, 8 + tlen));
      const name = nameText(b.subarray(8 + tlen));
      if (type === null || name === null || name === '') return { kind: 'Refused', id, reason: 'AddRecord with an empty or non-ASCII name or type' };
      if (kind === 0 && type === '') return { kind: 'Refused', id, reason: 'AddRecord of a record without type' };
      return { kind: 'AddRecord', recid, alias: kind === 1, type, name };
    }
    case MSG.AddInfo: {
      if (b.length < 8) return `AddInfo of ${b.length} bytes (expected at least 8)`;
      const recid = u32(b, 0);
      const klen = b[4]!;
      const vlen = u16(b, 6);
      if (8 + klen + vlen !== b.length) return `AddInfo lengths ${klen}+${vlen} do not match its body of ${b.length} bytes`;
      const key = nameText(b.subarray(8, 8 + klen));
      const value = valueText(b.subarray(8 + klen));
      if (key === null || key === '' || value === null) return { kind: 'Refused', id, reason: 'AddInfo with an empty or non-ASCII key, or a non-ASCII value' };
      return { kind: 'AddInfo', recid, key, value };
    }
    default:
      return `unknown id 0x${id.toString(16)}`;
  }
}
