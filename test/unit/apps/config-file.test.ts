// One config loader: the cluster description, the auth file and the archiver-agent's config all fail the same way,
// a PVS_CONFIG error naming the kind of file, the file, and the field.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentConfigFile } from '../../../src/apps/archiver-config.js';
import { loadAuthFile, loadClusterSpec } from '../../../src/apps/config-files.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'pvsync-cfgfile-')); });
afterAll(() => rm(dir, { recursive: true, force: true }));

const loaders: Array<[string, (path: string) => Promise<unknown>, string, string]> = [
  ['cluster description', loadClusterSpec, 'token: t\nhost: "bad host!"\n', 'host: '],
  ['auth file', loadAuthFile, 'users:\n  bob:\n    password: x\n    roles: [ROOT]\n', 'users.bob.'],
  ['archiver config', async (p) => readAgentConfigFile(p), 'ttl: soon\n', 'ttl: must be a duration in seconds'],
];

describe.each(loaders)('%s', (what, load, bad, field) => {
  it('names the file and the field of a bad value', async () => {
    const f = join(dir, `${what.replace(' ', '-')}.yml`);
    await writeFile(f, bad);
    await expect(load(f)).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringContaining(`${what} ${f}: ${field}`) as unknown,
    });
  });

  it('names the file that is not YAML, and the one that cannot be read', async () => {
    const f = join(dir, `${what.replace(' ', '-')}-broken.yml`);
    await writeFile(f, 'a: [unclosed\n');
    await expect(load(f)).rejects.toMatchObject({ code: 'PVS_CONFIG', message: expect.stringContaining(`${what} ${f}: not valid YAML`) as unknown });
    await expect(load(join(dir, 'missing.yml'))).rejects.toMatchObject({
      code: 'PVS_CONFIG', message: expect.stringMatching(new RegExp(`^${what} .*missing\\.yml: cannot read it \\(ENOENT`)) as unknown,
    });
  });
});
