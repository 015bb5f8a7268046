/**
 * HTTP Basic authentication against the users of an auth file (or the demo users): parses the header, verifies the
 * scrypt hash, and remembers recent successes (by a SHA-256 of the header) so that bulk writers do not pay scrypt on
 * every request. Wrong credentials are a 401 (PVS_AUTH), like every refusal. An unknown user name costs the same scrypt
 * as a wrong password (checked against a dummy hash), so names cannot be told apart by the time of the answer.
 * Password checks run one at a time, so that a flood of them costs at most one core.
 */
import { createHash, randomBytes } from 'node:crypto';
import { principal, type AuthFile, type Principal } from '../../core/auth/principal.js';
import { PvsError } from '../../core/errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

const CACHE_MAX = 1024;

/**
 * Runs before a password is verified (not for a login already cached); it may throw to refuse, e.g. PVS_RATE_LIMITED
 * when the client has tried too many passwords.
 */
export type PasswordCheckGate = () => Promise<void>;

/** Turns an `Authorization` header into a principal. */
export class Authenticator {
  private readonly cache = new Map<string, Principal>();
  // Unknown users are verified against this hash (same scrypt cost as a real one), made once on first need.
  private dummy: Promise<string> | null = null;
  // The last password check queued: checks run one at a time, each after the one before.
  private checking: Promise<unknown> = Promise.resolve();

  /** `verify` checks a password against a hash (scrypt by default; tests count its calls). */
  constructor(private readonly file: AuthFile, private readonly verify = verifyPassword) {}

  /** Null without a header; the principal for good credentials; throws PVS_AUTH for anything else. */
  async authenticate(header: string | undefined, gate?: PasswordCheckGate): Promise<Principal | null> {
    if (header === undefined || header.trim() === '') return null;
    const digest = createHash('sha256').update(header).digest('base64');
    const hit = this.cache.get(digest);
    if (hit !== undefined) return hit;
    await gate?.();
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const decoded = m === null ? '' : Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new PvsError('PVS_AUTH', 'malformed Authorization header (HTTP Basic expected)');
    const name = decoded.slice(0, colon);
    const user = Object.hasOwn(this.file.users, name) ? this.file.users[name] : undefined;
    const hash = user?.password ?? await (this.dummy ??= hashPassword(randomBytes(16).toString('base64')));
    const good = await this.serially(() => this.verify(decoded.slice(colon + 1), hash));
    if (user === undefined || !good) throw new PvsError('PVS_AUTH', 'bad credentials');
    const p = principal(name, user.roles, user.groups);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(digest, p);
    return p;
  }

  // One scrypt (~50 ms of a core) at a time: wrong passwords from any number of clients and addresses never take more
  // than one of the machine's cores (libuv would run four at once) from everyone else's requests.
  private serially<T>(check: () => Promise<T>): Promise<T> {
    const run = this.checking.then(check);
    this.checking = run.catch(() => undefined);
    return run;
  }
}

/**
 * ChannelFinder's demo users (`demo_auth`): `admin`/`adminPass` with ADMIN, `user`/`userPass` with USER, which
 * upstream's default group mapping makes a CHANNEL writer (and member of group `USER`).
 */
export async function demoAuthFile(): Promise<AuthFile> {
  return {
    users: {
      admin: { password: await hashPassword('adminPass'), roles: ['ADMIN'], groups: ['ADMIN'] },
      user: { password: await hashPassword('userPass'), roles: ['CHANNEL'], groups: ['USER'] },
    },
  };
}

/** Merge two auth files (the second's users win). */
export function mergeAuthFiles(a: AuthFile, b: AuthFile): AuthFile {
  return { users: { ...a.users, ...b.users } };
}
