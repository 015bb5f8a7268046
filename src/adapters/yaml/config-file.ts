/**
 * The one config file loader: read a YAML (or JSON, which is YAML) file, validate it with its zod schema, and raise
 * PVS_CONFIG naming the file and the field (`auth file /etc/pvsync/auth.yml: users.bob.roles.0: …`). The cluster
 * description, the auth file and the archiver-agent's config all load through it (src/apps/config-files.ts).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { checkConfig } from '../../core/config-check.js';
import { PvsError, messageOf } from '../../core/errors.js';

/** How to name and read a file: `what` prefixes the path in errors; `empty` stands in for an empty document. */
export interface ConfigFileOptions {
  readonly what: string;
  readonly empty?: unknown;
}

/** The document in `text` (from `path`) validated by `schema`. */
export function parseConfigText<S extends z.ZodType>(text: string, path: string, schema: S, opts: ConfigFileOptions): z.output<S> {
  const source = `${opts.what} ${path}`;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${source}: not valid YAML (JSON is YAML too; this is not YAML): ${messageOf(err)}`, { cause: err });
  }
  return checkConfig(schema, doc ?? opts.empty ?? doc, source);
}

function unreadable(path: string, opts: ConfigFileOptions, err: unknown): PvsError {
  return new PvsError('PVS_CONFIG', `${opts.what} ${path}: cannot read it (${messageOf(err)})`, { cause: err });
}

/** Read and validate a config file. */
export async function loadConfigFile<S extends z.ZodType>(path: string, schema: S, opts: ConfigFileOptions): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw unreadable(path, opts, err);
  }
  return parseConfigText(text, path, schema, opts);
}

/** Read and validate a config file, synchronously (for settings resolved before anything runs). */
export function loadConfigFileSync<S extends z.ZodType>(path: string, schema: S, opts: ConfigFileOptions): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(path, opts, err);
  }
  return parseConfigText(text, path, schema, opts);
}
