/**
 * Password hashes for the auth file: scrypt (node:crypto) with a random salt, encoded as
 * `scrypt$N$r$p$SALT$HASH` (base64url). Plain passwords are never stored; verification is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { ...opts, maxmem: 256 * 2 ** 20 }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** Hash a password with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P }, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `encoded` (a malformed hash never matches). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(encoded);
  if (m === null) return false;
  const want = Buffer.from(m[5] as string, 'base64url');
  if (want.length < 16) return false;
  try {
    const got = await derive(password, Buffer.from(m[4] as string, 'base64url'), { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) }, want.length);
    return timingSafeEqual(got, want);
  } catch {
    return false;
  }
}
