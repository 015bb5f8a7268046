/**
 * The data model of pvsync: what the parser produces, what is stored in etcd (validated on the way back in) and the
 * ChannelFinder shapes served to clients. Stored shapes are zod schemas because etcd is a trust boundary.
 */
import { z } from 'zod';

/** One diagnostic of a parse: `file:line:col: message`, lines and columns counted from 1. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly severity: 'error' | 'warning' | 'note';
  readonly message: string;
}

/**
 * A record as an IOC would load it: name and type after macro expansion, its fields, info tags and aliases, and
 * where it is first defined: `file` and `line`, and `via`, the files through which that file was reached
 * (nested startup scripts, the substitution file, including database files; outermost first, absent when none).
 */
export interface IocRecord {
  readonly name: string;
  readonly type: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly infos: Readonly<Record<string, string>>;
  readonly aliases: readonly string[];
  readonly file?: string;
  readonly line?: number;
  readonly via?: readonly string[];
}

/**
 * A file the IOC configuration names that could not be read: `name` as written (environment expanded), the `paths`
 * tried, where it is named (`at`), the diagnostic's message and, when the file source knows it, the `reason`.
 */
export interface UnreadableFile {
  readonly name: string;
  readonly paths: readonly string[];
  readonly at: { readonly file: string; readonly line: number; readonly col: number };
  readonly message: string;
  readonly reason?: string;
}

/**
 * The result of reading an IOC's startup script: its environment, its records, what went wrong, and which of the
 * files it names could not be read (each also an error diagnostic).
 */
export interface ParseResult {
  readonly env: Readonly<Record<string, string>>;
  readonly records: readonly IocRecord[];
  readonly diagnostics: readonly Diagnostic[];
  readonly unreadable: readonly UnreadableFile[];
}

/** Version of the key layout and stored values (docs/keyspace.md). */
export const SCHEMA_VERSION = 1;

/**
 * A record as stored under `records/`: what the directory needs, not every field. `gone` = vanished from the IOC.
 * `file`, `line`, `via`: where it is defined (IocRecord); absent in values written before they existed.
 */
export const StoredRecordSchema = z.object({
  name: z.string().min(1),
  type: z.string(),
  desc: z.string().optional(),
  infos: z.record(z.string(), z.string()),
  aliases: z.array(z.string().min(1)),
  file: z.string().min(1).optional(),
  line: z.number().int().positive().optional(),
  via: z.array(z.string().min(1)).optional(),
  gone: z.literal(true).optional(),
});
export type StoredRecord = z.infer<typeof StoredRecordSchema>;

/** Upload state of an IOC: `uploading` while records are written, `complete` once all are, `stopped` on shutdown. */
export const UploadStateSchema = z.enum(['uploading', 'complete', 'stopped']);
export type UploadState = z.infer<typeof UploadStateSchema>;

/**
 * A configuration error published in the IOC's info: `code` (PVS_DB_FILE: a file could not be read, its records
 * are kept as last published), the message, where it is reported (`file`, `line`, `col`) and the `unreadable` file.
 */
export const IocErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  file: z.string(),
  line: z.number().int().positive().optional(),
  col: z.number().int().positive().optional(),
  unreadable: z.string().optional(),
});
export type IocError = z.infer<typeof IocErrorSchema>;

/** The IOC-wide key: identity, environment and upload state. Written by the IOC's uploader (or a bridge). */
export const IocInfoSchema = z.object({
  schema: z.literal(SCHEMA_VERSION),
  iocId: z.string().min(1),
  iocName: z.string(),
  hostName: z.string(),
  iocIP: z.string().optional(),
  env: z.record(z.string(), z.string()),
  uploadId: z.string().min(1),
  state: UploadStateSchema,
  records: z.number().int().nonnegative(),
  updatedAt: z.string(),
  writer: z.string(),
  errors: z.array(IocErrorSchema).optional(),
  /** The installation the IOC publishes at: never stored, set by the reader (replicas: their source; docs/keyspace.md). */
  installation: z.string().optional(),
});
export type IocInfo = z.infer<typeof IocInfoSchema>;

/** The leased liveness key of an IOC: present while the IOC (its uploader) is alive. */
export const AliveSchema = z.object({
  uploadId: z.string().min(1),
  since: z.string(),
  writer: z.string(),
});
export type Alive = z.infer<typeof AliveSchema>;

/** A property value of a stored channel: the nested owner is not stored (it is the definition's owner). */
export const StoredPropertySchema = z.object({ name: z.string().min(1), value: z.string().min(1) });
export type StoredProperty = z.infer<typeof StoredPropertySchema>;

/**
 * A channel written through the ChannelFinder API (`channels/<name>`): stored as written for channels no IOC serves;
 * for IOC channels it holds the user additions (owner, non-managed properties, tags) that survive uploads.
 */
export const StoredChannelSchema = z.object({
  name: z.string().min(1),
  owner: z.string().min(1),
  properties: z.array(StoredPropertySchema),
  tags: z.array(z.string().min(1)),
});
export type StoredChannel = z.infer<typeof StoredChannelSchema>;

/** A property or tag definition (`defs/properties/<name>`, `defs/tags/<name>`): its name and owner. */
export const DefinitionSchema = z.object({ name: z.string().min(1), owner: z.string().min(1) });
export type Definition = z.infer<typeof DefinitionSchema>;

/** A ChannelFinder property as nested in a channel: `channels` is always empty there. */
export interface CfProperty {
  name: string;
  owner: string;
  value: string | null;
  channels: CfChannel[];
}

/** A ChannelFinder tag as nested in a channel. */
export interface CfTag {
  name: string;
  owner: string;
  channels: CfChannel[];
}

/** A ChannelFinder channel, exactly the four fields Phoebus accepts. */
export interface CfChannel {
  name: string;
  owner: string;
  properties: CfProperty[];
  tags: CfTag[];
}
