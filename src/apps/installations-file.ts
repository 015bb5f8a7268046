/**
 * Loading installations.yml (`--installations FILE` or PVSYNC_INSTALLATIONS) and choosing this process's
 * installation (`--installation NAME` or PVSYNC_INSTALLATION; a client without one takes the nearest by its own
 * addresses). Errors are PVS_CONFIG naming the file and the field.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { PvsError, messageOf } from '../core/errors.js';
import {
  installationOf, nearestInstallation, parseInstallations, type Installation, type Installations,
} from '../core/installations/config.js';
import { resolveSecurity, type EtcdConnection } from './options.js';

/** Read and validate an installations file. */
export function loadInstallations(path: string): Installations {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${path}: cannot read it (${messageOf(err)})`, { cause: err });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `${path}: not YAML (${messageOf(err)})`, { cause: err });
  }
  const r = parseInstallations(value);
  if (!r.ok) throw new PvsError('PVS_CONFIG', `${path}: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return r.value;
}

/** The installations file of the option, else PVSYNC_INSTALLATIONS; undefined when neither is given. */
export function installationsPath(opt: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = opt ?? env['PVSYNC_INSTALLATIONS'];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/** This process's installation: the option, else PVSYNC_INSTALLATION; must be in the file. */
export function ownInstallation(cfg: Installations, file: string, opt: string | undefined, env: NodeJS.ProcessEnv = process.env): Installation {
  const name = opt ?? env['PVSYNC_INSTALLATION'];
  if (name === undefined || name.trim() === '') {
    throw new PvsError('PVS_CONFIG', `${file}: --installation (env PVSYNC_INSTALLATION) is needed to say which installation this is`);
  }
  return namedInstallation(cfg, file, name.trim());
}

/** The installation of that name; PVS_CONFIG listing the known ones otherwise. */
export function namedInstallation(cfg: Installations, file: string, name: string): Installation {
  const inst = installationOf(cfg, name);
  if (inst === undefined) {
    throw new PvsError('PVS_CONFIG', `${file}: no installation ${JSON.stringify(name)} (known: ${cfg.installations.map((i) => i.name).join(', ')})`);
  }
  return inst;
}

/** The addresses of this host's network interfaces. */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/** A client's installation: told (option or env), else the nearest by this host's addresses, else the first. */
export function clientInstallation(cfg: Installations, file: string, opt: string | undefined, env: NodeJS.ProcessEnv = process.env): Installation {
  const told = opt ?? env['PVSYNC_INSTALLATION'];
  if (told !== undefined && told.trim() !== '') return namedInstallation(cfg, file, told.trim());
  const near = nearestInstallation(cfg, localAddresses());
  return near === undefined ? cfg.installations[0]! : namedInstallation(cfg, file, near);
}

/** How to reach an installation's etcd, its security files read and checked like the --etcd-* options. */
export function etcdOf(inst: Installation): EtcdConnection {
  const e = inst.etcd;
  const security = resolveSecurity({
    ...(e.ca === undefined ? {} : { etcdCa: e.ca }),
    ...(e.cert === undefined ? {} : { etcdCert: e.cert }),
    ...(e.key === undefined ? {} : { etcdKey: e.key }),
    ...(e.user === undefined ? {} : { etcdUser: e.user }),
    ...(e.passwordFile === undefined ? {} : { etcdPasswordFile: e.passwordFile }),
  }, {});
  return security === undefined ? { endpoints: [...e.endpoints] } : { endpoints: [...e.endpoints], security };
}
