/**
 * `GET /api/v1/archiver/pvs`: the PVs the archive reconciler asks a group's active appliance to archive (its
 * selection of the directory's channels with an `archive` property, docs/archiving.md), one page at a time, each
 * with the appliance's getPVStatus answer and what the reconciler does next to it; plus which node and appliance
 * are active, and why none could be asked. Only the page's names are sent to the appliance.
 */
import type { FastifyInstance } from 'fastify';
import {
  archivedRow, pageArchived, selectArchived, type ArchivedEntry, type ArchivedRow,
} from '../../core/archiver/archived-list.js';
import { parseArchiverList } from '../../core/archiver/archive-spec.js';
import type { ApplianceSelector } from '../../core/archiver/plan.js';
import type { ActiveValue } from '../../core/election/records.js';
import type { ArchiverService } from '../../core/election/service.js';
import { PvsError, messageOf } from '../../core/errors.js';
import type { CfChannel } from '../../core/model.js';
import { parseChannelQuery } from '../../core/query/parse-query.js';
import type { DirectoryReader } from './directory-reader.js';
import { runStepped } from './stepped.js';

/** What the route needs of an appliance's management interface (the BPL client has it). */
export interface ApplianceReader {
  startupState(): Promise<string>;
  pvStatus(names: readonly string[]): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
}

/** Options of the route. */
export interface ArchivedPvDeps {
  readonly service: ArchiverService;
  readonly defaultGroup: string;
  /** A reader of the appliance at a mgmt URL (with a deadline on every call). */
  readonly appliance: (mgmtUrl: string) => ApplianceReader;
}

/** Largest page (names asked of the appliance in one request). */
export const MAX_ARCHIVED_PAGE = 500;

/** The appliance as the route could reach it. */
interface ApplianceState {
  readonly mgmt: string | null;
  readonly reachable: boolean;
  readonly startupState: string | null;
  readonly identity: string | null;
  readonly error: string | null;
}

const SCAN_CHUNK = 2000;

const applianceViewSchema = {
  type: ['object', 'null'],
  properties: {
    status: { type: 'string' }, method: { type: 'string', enum: ['MONITOR', 'SCAN'] }, period: { type: 'number' },
    lastEvent: { type: 'string' }, connected: { type: 'boolean' },
  },
} as const;

const rowSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' }, archive: { type: 'string' }, spec: { type: ['string', 'null'] }, problem: { type: ['string', 'null'] },
    iocStatus: { type: 'string', enum: ['Active', 'Inactive'] }, iocId: { type: ['string', 'null'] },
    appliance: applianceViewSchema,
    next: { type: ['string', 'null'], enum: ['none', 'archive', 'pause', 'resume', 'change', 'wait', 'refused', null] },
  },
} as const;

const replySchema = {
  type: 'object',
  properties: {
    group: { type: 'string' }, revision: { type: 'number' },
    selector: { type: 'object', properties: { archiver: { type: 'array', items: { type: 'string' } }, untargeted: { type: 'boolean' } } },
    active: {
      type: ['object', 'null'],
      properties: { node: { type: 'string' }, token: { type: 'string' }, since: { type: 'number' }, mgmt: { type: ['string', 'null'] } },
    },
    appliance: {
      type: 'object',
      properties: {
        mgmt: { type: ['string', 'null'] }, reachable: { type: 'boolean' }, startupState: { type: ['string', 'null'] },
        identity: { type: ['string', 'null'] }, error: { type: ['string', 'null'] },
      },
    },
    total: { type: 'integer' }, pvs: { type: 'array', items: rowSchema }, nextAfter: { type: ['string', 'null'] },
  },
} as const;

const PARAMS = ['group', 'name', 'archiver', 'untargeted', 'size', 'after'];

interface Query {
  group?: string; name?: string; archiver?: string; untargeted?: boolean; size?: number; after?: string;
}

/** Register the route. */
export function registerArchivedPvRoute(app: FastifyInstance, directory: DirectoryReader, deps: ArchivedPvDeps): void {
  // Each open console asks every two seconds: the selection is made once per change of the directory, per filter,
  // kept under the generation it started from (a change during the scan makes the next request scan again).
  const cache = new Map<string, { generation: number; entries: ArchivedEntry[] }>();
  const selected = async (name: string, sel: ApplianceSelector): Promise<ArchivedEntry[]> => {
    const key = JSON.stringify([name, sel.names, sel.untargeted]);
    const generation = directory.derivation.generation;
    const hit = cache.get(key);
    if (hit?.generation === generation) return hit.entries;
    const entries = selectArchived(await archiveTagged(directory, name), sel);
    cache.delete(key);
    cache.set(key, { generation, entries });
    if (cache.size > 4) cache.delete(cache.keys().next().value as string);
    return entries;
  };

  app.get<{ Querystring: Query }>('/api/v1/archiver/pvs', {
    // fastify's ajv strips undeclared parameters silently: a mistyped filter must fail, naming it, not list everything.
    preValidation: async (req) => {
      const unknown = Object.keys(req.query).filter((k) => !PARAMS.includes(k));
      if (unknown.length > 0) {
        throw new PvsError('PVS_BAD_REQUEST', `unknown parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${PARAMS.join(', ')})`);
      }
    },
    schema: {
      querystring: {
        type: 'object',
        properties: {
          group: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 },
          archiver: { type: 'string' }, untargeted: { type: 'boolean' },
          size: { type: 'integer', minimum: 1, maximum: MAX_ARCHIVED_PAGE }, after: { type: 'string' },
        },
        additionalProperties: false,
      },
      response: { 200: replySchema, '4xx': { $ref: 'errorBody#' }, '5xx': { $ref: 'errorBody#' } },
    },
  }, async (req) => {
    const q = req.query;
    const group = q.group ?? deps.defaultGroup;
    const sel: ApplianceSelector = { names: parseArchiverList(q.archiver), untargeted: q.untargeted ?? true };
    const revision = directory.revision;
    const entries = await selected(q.name ?? '*', sel);
    const { page, nextAfter } = pageArchived(entries, q.after ?? null, q.size ?? 100);
    const active = (await deps.service.status(group)).active;
    const { state, statuses } = await ask(active, page.map((e) => e.name), deps);
    const pvs: ArchivedRow[] = page.map((e) => archivedRow(e, directory.get(e.name), statuses === null ? null : statuses.get(e.name)));
    return {
      group, revision, selector: { archiver: [...sel.names], untargeted: sel.untargeted },
      active: active === null ? null : { node: active.node, token: active.token, since: active.since, mgmt: active.endpoints.mgmt ?? null },
      appliance: state, total: entries.length, pvs, nextAfter,
    };
  });
}

/**
 * Every channel with an `archive` property whose name matches `pattern`, read in chunks in name order, each chunk a
 * stepped scan: a directory of a million channels is read in turns with the other requests, not in one block.
 */
async function archiveTagged(directory: DirectoryReader, pattern: string): Promise<CfChannel[]> {
  const out: CfChannel[] = [];
  const limits = { defaultSize: SCAN_CHUNK, maxSize: SCAN_CHUNK };
  let after: string | null = null;
  for (;;) {
    const q = parseChannelQuery({ '~name': pattern, archive: '*', ...(after === null ? {} : { '~search_after': after }) }, limits);
    const { channels } = await runStepped(directory.startSearch(q));
    out.push(...channels);
    const last = channels.at(-1);
    if (channels.length < SCAN_CHUNK || last === undefined) return out;
    after = last.name;
  }
}

/** Ask the active appliance for the page's names; the state says why nothing could be asked. */
async function ask(active: ActiveValue | null, names: readonly string[], deps: ArchivedPvDeps): Promise<{
  state: ApplianceState; statuses: ReadonlyMap<string, Readonly<Record<string, unknown>>> | null;
}> {
  const none = (mgmt: string | null, error: string, reachable = false, startupState: string | null = null) =>
    ({ state: { mgmt, reachable, startupState, identity: null, error }, statuses: null });
  if (active === null) return none(null, 'no archiver node is active: there is no appliance to ask');
  const mgmt = active.endpoints.mgmt;
  if (mgmt === undefined) return none(null, `the active node ${active.node} publishes no mgmt URL`);
  const reader = deps.appliance(mgmt);
  let startupState: string;
  try {
    startupState = await reader.startupState();
  } catch (err) {
    return none(mgmt, `the appliance of ${active.node} did not answer: ${messageOf(err)}`);
  }
  // appliance: every BPL but ping and startupState answers 500 until start-up is complete
  if (startupState !== 'STARTUP_COMPLETE') return none(mgmt, `the appliance is starting (${startupState})`, true, startupState);
  try {
    const statuses = names.length === 0 ? new Map() : await reader.pvStatus(names);
    let identity: string | null = null;
    for (const e of statuses.values()) if (identity === null && typeof e.appliance === 'string') identity = e.appliance;
    return { state: { mgmt, reachable: true, startupState, identity, error: null }, statuses };
  } catch (err) {
    return none(mgmt, `the appliance of ${active.node} did not answer getPVStatus: ${messageOf(err)}`, false, startupState);
  }
}
