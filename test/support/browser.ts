/**
 * Real headless Chromium for the console's browser tests: Debian's `chromium` (scripts/install-deps.sh installs it;
 * PVSYNC_CHROMIUM overrides the path), driven by playwright-core with `executablePath` — never a browser Playwright
 * downloads. The browser runs as a server process whose pid we hold, so `close()` can prove it gone (SIGKILL if
 * Playwright's own close did not end it). Screenshots go to docs/console/ only when PVSYNC_SCREENSHOTS=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';

const DOCS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

function chromiumPath(): string {
  const env = process.env['PVSYNC_CHROMIUM'];
  if (env !== undefined && env !== '') return env;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: run scripts/install-deps.sh (as root), or set PVSYNC_CHROMIUM');
  }
}

// Running, and not a zombie waiting to be reaped.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process descended from `pid` (Chromium's zygotes, renderers, GPU and utility processes). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) if (pp === p) { out.push(child); walk(child); }
  };
  walk(pid);
  return out;
}

/** A running headless Chromium. */
export interface TestBrowser {
  readonly browser: Browser;
  readonly pid: number;
  /** Close every page and the browser; resolves once its processes are gone. */
  close(): Promise<void>;
  /** Pids of the browser's processes still running after close() (empty when it cleaned up). */
  readonly leftover: () => number[];
}

/** Launch Chromium headless (with --no-sandbox when running as root, as Chromium requires). */
export async function launchBrowser(): Promise<TestBrowser> {
  const root = process.getuid?.() === 0;
  const server: BrowserServer = await chromium.launchServer({
    executablePath: chromiumPath(), headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
  const pid = server.process().pid ?? 0;
  const browser = await chromium.connect(server.wsEndpoint());
  let tree: number[] = [];
  return {
    browser, pid,
    close: async () => {
      tree = pid === 0 ? [] : [pid, ...descendants(pid)];
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      const end = Date.now() + 5000;
      while (tree.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      for (const p of tree.filter(alive)) process.kill(p, 'SIGKILL');
    },
    leftover: () => tree.filter(alive),
  };
}

/** Save a screenshot of the page as docs/console/<name>.png when PVSYNC_SCREENSHOTS=1 (normal runs write nothing). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env['PVSYNC_SCREENSHOTS'] !== '1') return;
  mkdirSync(DOCS, { recursive: true });
  await page.screenshot({ path: `${DOCS}${name}.png`, fullPage: false });
}
