/**
 * The RecCaster ↔ RecCeiver wire protocol (domain.md §3): message ids, the messages a bridge receives and sends,
 * and their byte layouts. Big-endian throughout; strings are ASCII without terminator. Pure: bytes in, bytes out.
 */

/** "RC": the first two bytes of every frame and of every announcement. */
export const MAGIC = 0x5243;
/** Frame header: magic u16, message id u16, body length u32. */
export const HEADER_BYTES = 8;
/** Protocol version spoken by both sides. */
export const PROTOCOL_VERSION = 0;
/** The UDP port IOCs listen on for announcements (the reccaster does not make it configurable). */
export const DEFAULT_ANNOUNCE_PORT = 5049;

/** Message ids: client → server below 0x8000, server → client from 0x8000. */
export const MSG = {
  ServerGreet: 0x8001,
  Ping: 0x8002,
  ClientGreet: 0x0001,
  Pong: 0x0002,
  AddRecord: 0x0003,
  DelRecord: 0x0004,
  UploadDone: 0x0005,
  AddInfo: 0x0006,
} as const;

/** A message from the IOC, as decoded from one frame. */
export type ClientMessage =
  /** 0x0001 ClientGreet: version u8, type u8, reserved u16, server key u32. */
  | { readonly kind: 'ClientGreet'; readonly version: number; readonly type: number; readonly serverKey: number }
  /** 0x0002 Pong: nonce u32. */
  | { readonly kind: 'Pong'; readonly nonce: number }
  /** 0x0003 AddRecord: recid u32, kind u8 (0 record, 1 alias), type length u8, name length u16, type, name. */
  | { readonly kind: 'AddRecord'; readonly recid: number; readonly alias: boolean; readonly type: string; readonly name: string }
  /** 0x0004 DelRecord: recid u32. */
  | { readonly kind: 'DelRecord'; readonly recid: number }
  /** 0x0005 UploadDone: 4 zero bytes. */
  | { readonly kind: 'UploadDone' }
  /** 0x0006 AddInfo: recid u32 (0 = the IOC), key length u8, reserved u8, value length u16, key, value. */
  | { readonly kind: 'AddInfo'; readonly recid: number; readonly key: string; readonly value: string }
  /** A frame the decoder refused but that does not break the stream (unknown id, non-ASCII text). */
  | { readonly kind: 'Refused'; readonly id: number; readonly reason: string };

function frame(id: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, MAGIC);
  dv.setUint16(2, id);
  dv.setUint32(4, body.length);
  out.set(body, HEADER_BYTES);
  return out;
}

/** 0x8001 ServerGreet: version u8. Sent as soon as a connection is accepted. */
export function encodeServerGreet(): Uint8Array {
  return frame(MSG.ServerGreet, Uint8Array.of(PROTOCOL_VERSION));
}

/** 0x8002 Ping: nonce u32. The IOC answers with a Pong carrying the same nonce. */
export function encodePing(nonce: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, nonce >>> 0);
  return frame(MSG.Ping, body);
}

/** A bridge's UDP announcement: where to connect and the key the IOC sends back in its ClientGreet. */
export interface Announcement {
  /** IPv4 dotted quad; `255.255.255.255` = connect to the datagram's source address. */
  readonly address: string;
  readonly port: number;
  readonly serverKey: number;
}

/** 16 bytes: magic u16, version u8, reserved u8, server address 4 bytes, TCP port u16, reserved u16, server key u32. */
export function encodeAnnouncement(a: Announcement): Uint8Array {
  const parts = a.address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`announcement address must be an IPv4 address, got ${a.address}`);
  }
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new RangeError(`bad TCP port ${a.port}`);
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, MAGIC);
  dv.setUint8(2, PROTOCOL_VERSION);
  out.set(parts, 4);
  dv.setUint16(8, a.port);
  dv.setUint32(12, a.serverKey >>> 0);
  return out;
}

/** Decode an announcement datagram; null when it is not one (wrong size, magic or version). */
export function decodeAnnouncement(b: Uint8Array): Announcement | null {
  if (b.length < 16) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (dv.getUint16(0) !== MAGIC || dv.getUint8(2) !== PROTOCOL_VERSION) return null;
  const port = dv.getUint16(8);
  if (port === 0) return null;
  return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port, serverKey: dv.getUint32(12) };
}

/** 0x0001 ClientGreet (the IOC side, for `pvsync cast`): version u8, type u8, reserved u16, server key u32. */
export function encodeClientGreet(serverKey: number): Uint8Array {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setUint32(4, serverKey >>> 0);
  return frame(MSG.ClientGreet, body);
}

/** 0x0002 Pong: nonce u32. */
export function encodePong(nonce: number): Uint8Array {
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, nonce >>> 0);
  return frame(MSG.Pong, body);
}

const asciiBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0x7f);

/** 0x0003 AddRecord: recid u32, kind u8, type length u8, name length u16, type, name. */
export function encodeAddRecord(recid: number, alias: boolean, type: string, name: string): Uint8Array {
  const t = asciiBytes(type).subarray(0, 255);
  const n = asciiBytes(name).subarray(0, 65535);
  const body = new Uint8Array(8 + t.length + n.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, recid >>> 0);
  dv.setUint8(4, alias ? 1 : 0);
  dv.setUint8(5, t.length);
  dv.setUint16(6, n.length);
  body.set(t, 8);
  body.set(n, 8 + t.length);
  return frame(MSG.AddRecord, body);
}

/** 0x0006 AddInfo: recid u32, key length u8, reserved u8, value length u16, key, value. */
export function encodeAddInfo(recid: number, key: string, value: string): Uint8Array {
  const k = asciiBytes(key).subarray(0, 255);
  const v = asciiBytes(value).subarray(0, 65535);
  const body = new Uint8Array(8 + k.length + v.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, recid >>> 0);
  dv.setUint8(4, k.length);
  dv.setUint16(6, v.length);
  body.set(k, 8);
  body.set(v, 8 + k.length);
  return frame(MSG.AddInfo, body);
}

/** 0x0005 UploadDone: 4 zero bytes. */
export function encodeUploadDone(): Uint8Array {
  return frame(MSG.UploadDone, new Uint8Array(4));
}
