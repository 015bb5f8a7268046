/**
 * installations.yml: the installations of a facility (each with its own etcd and API servers), the client networks
 * each serves, and for every data type where its primary is and which installations hold replicas of it
 * (docs/operations.md, "Several installations"). Pure: parsing, validation and the choices derived from it.
 */
import { z } from 'zod';
import { cidrContains, parseCidr } from './cidr.js';

/** The replicated data types and the key areas (under an installation's root) each is made of. */
export const DATA_TYPES = {
  /** IOC records, info and liveness, written by the uploaders and bridges of the installation. */
  iocs: ['iocs/', 'alive/'],
  /** Channels, tags and properties written through the ChannelFinder API. */
  api: ['channels/', 'defs/'],
  /** Archiver groups: election, active node, node status. */
  archiver: ['archiver/'],
} as const satisfies Record<string, readonly string[]>;

/** One data type's name. */
export type DataType = keyof typeof DATA_TYPES;

/** The data type names, in a stable order. */
export const DATA_TYPE_NAMES = Object.keys(DATA_TYPES) as DataType[];

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-" (at most 63)');
const URL_TEXT = z.string().url();

const EtcdSchema = z.strictObject({
  endpoints: z.array(URL_TEXT).min(1),
  /** Keyspace root of the installation (default /pvsync/v1/). */
  root: z.string().regex(/^\/.*\/$/, 'an absolute key prefix ending in "/"').default('/pvsync/v1/'),
  /** Files of a secured etcd, as the --etcd-* options (docs/security.md). */
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
}).refine((e) => (e.cert === undefined) === (e.key === undefined), { message: 'cert and key go together', path: ['cert'] })
  .refine((e) => (e.user === undefined) === (e.passwordFile === undefined), { message: 'user and passwordFile go together', path: ['user'] });

const InstallationSchema = z.strictObject({
  etcd: EtcdSchema,
  /** Base URLs of its `pvsync serve` servers. */
  api: z.array(URL_TEXT).min(1),
  /** Client networks it serves (CIDRs); a client in one of them uses it first. */
  networks: z.array(z.string().refine((s) => parseCidr(s) !== null, 'not a CIDR network such as 10.1.0.0/16')).default([]),
});

const FlowSchema = z.strictObject({ primary: NAME, replicas: z.array(NAME).default([]) });

const FileSchema = z.strictObject({
  installations: z.record(NAME, InstallationSchema).refine((r) => Object.keys(r).length > 0, 'at least one installation'),
  /** Per data type: one flow, or (IOC records only) one per publishing installation. */
  data: z.strictObject({
    iocs: z.union([FlowSchema, z.array(FlowSchema)]).optional(),
    api: FlowSchema.optional(),
    archiver: FlowSchema.optional(),
  }).default({}),
});

/** One installation as configured. */
export type Installation = z.output<typeof InstallationSchema> & { readonly name: string };

/** One replication flow: data of `type` written at `primary`, copied one way to each replica. */
export interface Flow {
  readonly type: DataType;
  readonly primary: string;
  readonly replicas: readonly string[];
}

/** A validated installations file. */
export interface Installations {
  readonly installations: readonly Installation[];
  readonly flows: readonly Flow[];
}

/** A problem in the file: the field path (`installations.linac.etcd.endpoints.0`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Validate a parsed installations file; issues name the field. */
export function parseInstallations(value: unknown): { ok: true; value: Installations } | { ok: false; issues: ConfigIssue[] } {
  const r = FileSchema.safeParse(value);
  if (!r.success) {
    return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.join('.') || '(file)', message: i.message })) };
  }
  const installations = Object.entries(r.data.installations).map(([name, i]) => ({ ...i, name }));
  const known = new Set(installations.map((i) => i.name));
  const issues: ConfigIssue[] = [];
  const flows: Flow[] = [];
  for (const type of DATA_TYPE_NAMES) {
    const raw = r.data.data[type];
    if (raw === undefined) continue;
    const list = Array.isArray(raw) ? raw : [raw];
    const primaries = new Set<string>();
    list.forEach((f, i) => {
      const at = Array.isArray(raw) ? `data.${type}.${i}` : `data.${type}`;
      if (!known.has(f.primary)) issues.push({ path: `${at}.primary`, message: `unknown installation ${JSON.stringify(f.primary)}` });
      if (primaries.has(f.primary)) issues.push({ path: `${at}.primary`, message: `${f.primary} is primary of ${type} twice` });
      primaries.add(f.primary);
      const seen = new Set<string>();
      f.replicas.forEach((rep, j) => {
        const p = `${at}.replicas.${j}`;
        if (!known.has(rep)) issues.push({ path: p, message: `unknown installation ${JSON.stringify(rep)}` });
        else if (rep === f.primary) issues.push({ path: p, message: `${rep} is the primary; it cannot also be a replica` });
        else if (seen.has(rep)) issues.push({ path: p, message: `${rep} listed twice` });
        seen.add(rep);
      });
      flows.push({ type, primary: f.primary, replicas: f.replicas });
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { installations, flows } };
}

/** The installation of that name, or undefined. */
export function installationOf(cfg: Installations, name: string): Installation | undefined {
  return cfg.installations.find((i) => i.name === name);
}

/** The flow of `type` whose primary is `primary`, or undefined. */
export function flowOf(cfg: Installations, type: DataType, primary: string): Flow | undefined {
  return cfg.flows.find((f) => f.type === type && f.primary === primary);
}

/**
 * The primary of `type` whose data `installation` must not write itself, or undefined when it may write (it is the
 * primary, or the type is not replicated). For IOC records every installation publishes its own: never refused.
 */
export function foreignPrimary(cfg: Installations, type: DataType, installation: string): string | undefined {
  if (type === 'iocs') return undefined;
  const f = cfg.flows.find((x) => x.type === type);
  return f === undefined || f.primary === installation ? undefined : f.primary;
}

/** Installations holding data of `type` (primaries and replicas), in file order; all of them when it is not configured. */
export function holdersOf(cfg: Installations, type: DataType): string[] {
  const flows = cfg.flows.filter((f) => f.type === type);
  if (flows.length === 0) return cfg.installations.map((i) => i.name);
  const names = new Set(flows.flatMap((f) => [f.primary, ...f.replicas]));
  return cfg.installations.map((i) => i.name).filter((n) => names.has(n));
}

/**
 * The installation nearest to a client with these addresses: the one whose network contains one of them with the
 * longest prefix (ties: file order); undefined when none matches.
 */
export function nearestInstallation(cfg: Installations, addresses: readonly string[]): string | undefined {
  let best: { name: string; bits: number } | undefined;
  for (const inst of cfg.installations) {
    for (const text of inst.networks) {
      const net = parseCidr(text);
      if (net === null) continue;
      if (addresses.some((a) => cidrContains(net, a)) && (best === undefined || net.bits > best.bits)) {
        best = { name: inst.name, bits: net.bits };
      }
    }
  }
  return best?.name;
}

/**
 * The order in which a client tries installations for `type`: `preferred` (told, or the nearest) first, then the
 * other holders of the type in file order.
 */
export function failoverOrder(cfg: Installations, type: DataType, preferred: string | undefined): string[] {
  const holders = holdersOf(cfg, type);
  if (preferred === undefined || !holders.includes(preferred)) return holders;
  return [preferred, ...holders.filter((n) => n !== preferred)];
}
