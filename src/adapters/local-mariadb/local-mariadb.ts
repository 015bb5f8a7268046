/**
 * A local MariaDB server run as a detached `mariadbd` process with its own data dir, unix socket and TCP port, for
 * `pvsync db up|down|status`, the demo and the test suite. All state is in files under one directory (data/,
 * mariadbd.pid, mariadbd.log, server.json with port and credentials), so any process given that directory can check,
 * stop, kill or restart a server another process started. The TCP account (`pvsync` by default, all privileges) is
 * created on first start; root keeps password-less access over the socket only.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kill } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import mariadb, { type Connection } from 'mariadb';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PvsError, messageOf } from '../../core/errors.js';
import type { MariadbBinaries } from './binaries.js';

/** How to reach a running local server over TCP (plain data). */
export interface MariadbEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** What `status()` reports. */
export interface LocalMariadbState {
  readonly dir: string;
  readonly pid: number | null;
  readonly alive: boolean;
  /** True when the server answered a query over TCP with the stored credentials. */
  readonly answering: boolean;
  readonly endpoint: MariadbEndpoint | null;
  /** `mariadb://user:pass@host:port/` (password included: this is for the operator of the local server). */
  readonly url: string | null;
}

/** Options of a local server. The port and account apply when the server is first initialized (then server.json rules). */
export interface LocalMariadbOptions {
  readonly binaries: MariadbBinaries;
  /** True when this process runs as root (`process.getuid() === 0`): mariadbd then needs `--user=root`. */
  readonly isRoot: boolean;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  /** How long `up` waits for the server to answer (default 30 s; it is ready in well under a second). */
  readonly readyTimeoutMs?: number;
  /** How long `stop` waits after SIGTERM before SIGKILL (default 20 s). */
  readonly stopTimeoutMs?: number;
  /** Extra mariadbd flags (e.g. a smaller buffer pool for tests). */
  readonly extraArgs?: readonly string[];
  readonly log?: Logger;
}

const ServerFileSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  user: z.string().regex(/^[A-Za-z0-9_]{1,32}$/),
  password: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
});

const HOST = '127.0.0.1';
const POLL_MS = 50;

/** Start, stop, inspect and fault-inject one local mariadbd; every method is safe to repeat. */
export class LocalMariadb {
  readonly dir: string;
  private readonly opts: LocalMariadbOptions;

  constructor(dir: string, opts: LocalMariadbOptions) {
    this.dir = resolve(dir);
    this.opts = opts;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logPath(): string {
    return join(this.dir, 'mariadbd.log');
  }

  /** The unix socket; under the OS temp dir when the directory's path is too long for one (108 bytes on Linux). */
  get socketPath(): string {
    const inDir = join(this.dir, 'mariadbd.sock');
    if (Buffer.byteLength(inDir) < 100) return inDir;
    return join(tmpdir(), `pvsync-mariadb-${createHash('sha256').update(this.dir).digest('hex').slice(0, 16)}.sock`);
  }

  /** The pid file (written at spawn, rewritten by mariadbd once it is up). */
  get pidPath(): string {
    return join(this.dir, 'mariadbd.pid');
  }

  private get serverFile(): string {
    return join(this.dir, 'server.json');
  }

  /**
   * Initialize the data dir when new, start the server unless it runs, wait until it answers over TCP with the
   * account of server.json, and return how to reach it.
   */
  async up(): Promise<MariadbEndpoint> {
    const endpoint = await this.endpointOrCreate();
    if ((await this.runningPid()) === undefined) {
      if (!(await portIsFree(endpoint.port))) {
        throw new PvsError('PVS_MARIADB', `cannot start MariaDB in ${this.dir}: port ${HOST}:${endpoint.port} is in use by `
          + 'another process (another MariaDB?); choose another with --port on a new --state-dir');
      }
      if (!(await exists(join(this.dataDir, 'mysql')))) await this.installDb();
      await this.spawnServer(endpoint.port);
    }
    await this.waitReady(endpoint);
    this.opts.log?.info({ dir: this.dir, port: endpoint.port }, 'mariadb up');
    return endpoint;
  }

  /** Stop the server (SIGTERM: a clean shutdown; SIGKILL after the stop timeout) and remove the pid file; data is kept. */
  async down(): Promise<void> {
    await this.stop('SIGTERM');
  }

  /**
   * Signal the server and wait until it has exited: SIGTERM shuts down cleanly (escalating to SIGKILL after the
   * stop timeout), SIGKILL is a crash (InnoDB recovers at the next start). No-op when it is not running.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const pid = await this.runningPid();
    if (pid !== undefined) {
      signalPid(pid, signal);
      if (!(await this.waitExit(pid, signal === 'SIGKILL' ? 5_000 : this.opts.stopTimeoutMs ?? 20_000))) {
        this.opts.log?.warn({ pid }, 'mariadbd did not exit; sending SIGKILL');
        signalPid(pid, 'SIGKILL');
        if (!(await this.waitExit(pid, 5_000))) throw new PvsError('PVS_MARIADB', `mariadbd (pid ${pid}) does not exit`);
      }
    }
    await rm(this.pidPath, { force: true });
  }

  /** Freeze (SIGSTOP) or thaw (SIGCONT) the running server: a hung-database fault for tests. */
  async signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const pid = await this.runningPid();
    if (pid === undefined) throw new PvsError('PVS_MARIADB', `MariaDB in ${this.dir} is not running`);
    signalPid(pid, signal);
  }

  /** Pid, liveness and whether the server answers; never throws for a stopped or missing server. */
  async status(): Promise<LocalMariadbState> {
    const endpoint = await this.endpoint();
    const pid = await this.runningPid();
    const answering = pid !== undefined && endpoint !== undefined && (await ping(endpoint, 1_000)) === undefined;
    return {
      dir: this.dir, pid: pid ?? null, alive: pid !== undefined, answering, endpoint: endpoint ?? null,
      url: endpoint === undefined ? null : endpointUrl(endpoint),
    };
  }

  /** The endpoint stored in server.json, or undefined before the first `up`. */
  async endpoint(): Promise<MariadbEndpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.serverFile, 'utf8');
    } catch {
      return undefined;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new PvsError('PVS_MARIADB', `${this.serverFile}: not JSON (${messageOf(err)})`, { cause: err });
    }
    const parsed = ServerFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new PvsError('PVS_MARIADB', `${this.serverFile}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    return { host: HOST, ...parsed.data };
  }

  /** The pid of our running mariadbd (a stale pid file, a zombie or a reused pid count as not running). */
  async runningPid(): Promise<number | undefined> {
    let pid: number;
    try {
      pid = Number.parseInt((await readFile(this.pidPath, 'utf8')).trim(), 10);
    } catch {
      return undefined;
    }
    if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
    return (await isOurServer(pid, this.dataDir)) ? pid : undefined;
  }

  private async endpointOrCreate(): Promise<MariadbEndpoint> {
    const known = await this.endpoint();
    if (known !== undefined) return known;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = {
      port: this.opts.port ?? 3306,
      user: this.opts.user ?? 'pvsync',
      password: this.opts.password ?? randomBytes(12).toString('base64url'),
    };
    const checked = ServerFileSchema.safeParse(file);
    if (!checked.success) throw new PvsError('PVS_CONFIG', `MariaDB account: ${checked.error.issues[0]?.path.join('.') ?? ''} ${checked.error.issues[0]?.message ?? 'invalid'}`);
    await writeFile(this.serverFile, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    return { host: HOST, ...file };
  }

  private async installDb(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
    const args = ['--no-defaults', `--datadir=${this.dataDir}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', ...this.userArgs()];
    const log = await open(this.logPath, 'a');
    try {
      const code = await new Promise<number | null>((res, rej) => {
        const child = spawn(this.opts.binaries.installDb, args, { stdio: ['ignore', log.fd, log.fd] });
        child.once('error', rej);
        child.once('exit', (c) => res(c));
      });
      if (code !== 0) throw new PvsError('PVS_MARIADB', `mariadb-install-db failed (exit ${code}); its log ends:\n${await this.logTail()}`);
    } catch (err) {
      if (err instanceof PvsError) throw err;
      throw new PvsError('PVS_MARIADB', `cannot run ${this.opts.binaries.installDb}: ${messageOf(err)}`, { cause: err });
    } finally {
      await log.close();
    }
  }

  private async spawnServer(port: number): Promise<void> {
    await rm(this.socketPath, { force: true });
    const args = ['--no-defaults', `--datadir=${this.dataDir}`, `--socket=${this.socketPath}`, `--port=${port}`,
      `--bind-address=${HOST}`, `--pid-file=${this.pidPath}`, '--skip-name-resolve', ...this.userArgs(),
      ...(this.opts.extraArgs ?? [])];
    const log = await open(this.logPath, 'a');
    try {
      const child = spawn(this.opts.binaries.mariadbd, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
      if (child.pid === undefined) {
        const err = await new Promise<Error>((res) => child.once('error', res));
        throw new PvsError('PVS_MARIADB', `cannot start ${this.opts.binaries.mariadbd}: ${err.message}`, { cause: err });
      }
      child.on('error', () => undefined);
      child.unref();
      // mariadbd writes its pid file only once it is up; write it now so a crash at start is still ours to find.
      await writeFile(this.pidPath, `${child.pid}\n`);
      this.opts.log?.info({ pid: child.pid, port }, 'mariadbd started');
    } finally {
      await log.close();
    }
  }

  /** mariadbd refuses to run as root unless told to: run as root then (the files are root's anyway). */
  private userArgs(): string[] {
    return this.opts.isRoot ? ['--user=root'] : [];
  }

  /** Wait until the account answers over TCP, creating it (idempotent, over the socket as root) when it does not. */
  private async waitReady(endpoint: MariadbEndpoint): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      if ((await this.runningPid()) === undefined) {
        throw new PvsError('PVS_MARIADB', `mariadbd in ${this.dir} exited; its log (${this.logPath}) ends:\n${await this.logTail()}`);
      }
      const failure = (await ping(endpoint, 1_000)) === undefined ? undefined : await this.createAccount(endpoint);
      if (failure === undefined) return;
      last = failure;
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    throw new PvsError('PVS_MARIADB', `MariaDB in ${this.dir} did not answer within ${timeoutMs} ms (${last}); see ${this.logPath}`);
  }

  /** Create the TCP account over the socket as root; undefined when done, else why not (yet). */
  private async createAccount(endpoint: MariadbEndpoint): Promise<string | undefined> {
    let conn: Connection | undefined;
    try {
      conn = await mariadb.createConnection({ socketPath: this.socketPath, user: 'root', connectTimeout: 1_000 });
      for (const host of [HOST, 'localhost']) {
        await conn.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [endpoint.user, host, endpoint.password]);
        await conn.query(`GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION`, [endpoint.user, host]);
      }
      return await ping(endpoint, 1_000);
    } catch (err) {
      return messageOf(err);
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }

  private async waitExit(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await isOurServer(pid, this.dataDir))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
  }

  private async logTail(lines = 10): Promise<string> {
    try {
      return (await readFile(this.logPath, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** `mariadb://user:password@host:port/` for an endpoint (and a database when given). */
export function endpointUrl(e: MariadbEndpoint, database = ''): string {
  return `mariadb://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${e.host}:${e.port}/${encodeURIComponent(database)}`;
}

/** Connect over TCP and run `SELECT 1`; undefined when it answered, else the reason. */
async function ping(e: MariadbEndpoint, timeoutMs: number): Promise<string | undefined> {
  let conn: Connection | undefined;
  try {
    conn = await mariadb.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, connectTimeout: timeoutMs });
    await conn.query({ sql: 'SELECT 1', timeout: timeoutMs });
    return undefined;
  } catch (err) {
    return messageOf(err);
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/** True when `pid` runs (not a zombie) and is a mariadbd serving `dataDir`. */
async function isOurServer(pid: number, dataDir: string): Promise<boolean> {
  try {
    kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8');
    // /proc/PID/stat: "pid (comm) S ..." — the state letter follows the last ")"; Z = zombie, X = dead.
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').includes(`--datadir=${dataDir}`);
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const server = createServer();
    server.once('error', () => res(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => res(true)));
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
