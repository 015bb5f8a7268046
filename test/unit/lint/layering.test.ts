// The layering lint rejects what it must, however the path is spelled, and lets the right imports through.
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { layering } from '../../../eslint.layering.js';

// typescript-eslint's config type and ESLint's differ only in an index signature: the same objects at run time.
const parser = tseslint.config(tseslint.configs.base) as unknown as Linter.Config[];
const eslint = new ESLint({ cwd: process.cwd(), overrideConfigFile: true, overrideConfig: [...parser, ...layering] });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const ADAPTER = 'src/adapters/http/fixture.ts';
const CORE = 'src/core/directory/fixture.ts';

describe('layering lint', () => {
  it.each([
    [ADAPTER, "import { x } from '../etcd/kv.js';"],
    [ADAPTER, "import { x } from '../../adapters/etcd/kv.js';"],
    [ADAPTER, "import { x } from './sub/../../etcd/kv.js';"],
    [ADAPTER, "export { x } from '../../adapters/etcd/kv.js';"],
    [ADAPTER, "export * from '../fs/file-source.js';"],
    [ADAPTER, "import type { X } from '../../apps/cli.js';"],
    [ADAPTER, "const m = await import('../../adapters/etcd/kv.js');"],
    [ADAPTER, "import { x } from '../../../test/support/cluster.js';"],
    [CORE, "import { x } from '../../adapters/etcd/kv.js';"],
    [CORE, "import { x } from '../../apps/cli.js';"],
  ])('%s: %s is refused', async (file, code) => {
    expect(await problems(file, code)).toContain('pvsync/layer-imports');
  });

  it.each([
    [CORE, "import { readFile } from 'node:fs/promises';", 'no-restricted-imports'],
    [CORE, "import { resolve } from 'node:path';", 'no-restricted-imports'],
    [CORE, "import pino from 'pino';", 'no-restricted-imports'],
    [CORE, 'export const t = Date.now();', 'no-restricted-properties'],
    [CORE, 'export const t = new Date();', 'no-restricted-syntax'],
    [CORE, 'export const r = Math.random();', 'no-restricted-properties'],
    [CORE, 'setImmediate(() => undefined);', 'no-restricted-globals'],
    [CORE, "void fetch('http://x');", 'no-restricted-globals'],
    [CORE, 'export const n = Buffer.byteLength("x");', 'no-restricted-globals'],
    [CORE, "console.log('x');", 'no-restricted-globals'],
    [CORE, "globalThis.setTimeout(() => undefined, 1);", 'no-restricted-globals'],
  ])('%s: %s is refused by %s', async (file, code, rule) => {
    expect(await problems(file, code)).toContain(rule);
  });

  it.each([
    [ADAPTER, "import { x } from './cf-schemas.js';"],
    [ADAPTER, "import { x } from '../../core/errors.js';"],
    [ADAPTER, "import { readFile } from 'node:fs/promises';"],
    [CORE, "import { x } from '../errors.js';"],
    [CORE, "import { z } from 'zod';"],
    [CORE, "import { posix } from 'node:path';"],
    [CORE, "export const t = new Date(0).toISOString();"],
    ['src/apps/fixture.ts', "import { x } from '../adapters/etcd/kv.js';"],
  ])('%s: %s passes', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
