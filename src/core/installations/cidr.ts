/**
 * IPv4 and IPv6 addresses and CIDR networks as numbers, for matching a client's address against the networks an
 * installation serves (installations.yml). Pure; IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) count as IPv4.
 */

/** A parsed network: address family, first address and prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
  readonly text: string;
}

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(s: string): bigint | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string | undefined): string[] => (h === undefined || h === '' ? [] : h.split(':'));
  let head = groups(halves[0]);
  let tail = groups(halves[1]);
  let extra: bigint | null = null;
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes('.') === true) {
    extra = parseV4(last);
    if (extra === null) return null;
    if (halves.length === 2) tail = tail.slice(0, -1);
    else head = head.slice(0, -1);
  }
  const want = extra === null ? 8 : 6;
  const have = head.length + tail.length;
  if (halves.length === 1 ? have !== want : have >= want) return null;
  const all = [...head, ...Array<string>(want - have).fill('0'), ...tail];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return extra === null ? n : (n << 32n) | extra;
}

const MAPPED = 0xffffn << 32n;

/** An address as family and number, or null when it is not an IP address. `::ffff:a.b.c.d` becomes IPv4. */
export function parseAddress(s: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseV4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseV6(s.replace(/%.*$/, '')); // a zone id (fe80::1%eth0) does not change the address
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 - MAPPED };
  return { family: 6, value: v6 };
}

/** Parse `a.b.c.d/n` or `x::y/n` (a bare address is a /32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  const width = addr.family === 4 ? 32 : 128;
  const bitsText = slash < 0 ? String(width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > width) return null;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { family: addr.family, base: addr.value & mask, bits, text };
}

/** True when the address lies in the network. */
export function cidrContains(net: Cidr, address: string): boolean {
  const a = parseAddress(address);
  if (a === null || a.family !== net.family) return false;
  const width = net.family === 4 ? 32 : 128;
  return a.value >> BigInt(width - net.bits) === net.base >> BigInt(width - net.bits);
}
