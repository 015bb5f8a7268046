/**
 * The `archive` property grammar (ChannelFinder's archiver processor, domain.md §6): `default` (the appliance's own
 * policy), an exact policy name, `METHOD@PERIOD` (`monitor@1.0`, `scan@10`, method case-insensitive) or EPICS's
 * `info(archive, "monitor 1.0")` form with blanks. The optional `archiver` property names the appliance(s).
 */
import { PvsError } from '../errors.js';

/** How the appliance samples a PV (the appliance's `SamplingMethod`, DONT_ARCHIVE aside). */
export type SamplingMethod = 'MONITOR' | 'SCAN';

/** A parsed archive spec. `period` in seconds, > 0. */
export type ArchiveSpec =
  | { readonly kind: 'default' }
  | { readonly kind: 'policy'; readonly policy: string }
  | { readonly kind: 'sampling'; readonly method: SamplingMethod; readonly period: number };

const SAMPLING = /^(monitor|scan)(?:\s*@\s*|\s+)(\S+)$/i;
const BARE_METHOD = /^(monitor|scan)$/i;
const POLICY = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$/;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// The appliance keeps periods as float; anything finer than a millisecond or longer than a day is a typo.
const MIN_PERIOD = 0.001;
const MAX_PERIOD = 86_400;

/** Parse one `archive` value; throws PvsError PVS_ARCHIVE_SPEC naming the value and what is wrong. */
export function parseArchiveSpec(value: string): ArchiveSpec {
  const v = value.trim();
  if (v === '') throw specError(value, 'it is empty');
  if (v.toLowerCase() === 'default') return { kind: 'default' };
  const m = SAMPLING.exec(v);
  if (m !== null) {
    const method = (m[1] ?? '').toUpperCase() as SamplingMethod;
    const raw = m[2] ?? '';
    if (!NUMBER.test(raw)) throw specError(value, `the period "${raw}" is not a number of seconds`);
    const period = Number(raw);
    if (!(period >= MIN_PERIOD && period <= MAX_PERIOD)) {
      throw specError(value, `the period ${raw} s is outside ${MIN_PERIOD}…${MAX_PERIOD} s`);
    }
    return { kind: 'sampling', method, period };
  }
  if (BARE_METHOD.test(v)) throw specError(value, `"${v}" needs a period: ${v.toLowerCase()}@1.0`);
  if (v.includes('@')) throw specError(value, 'the method before "@" must be monitor or scan');
  if (!POLICY.test(v)) throw specError(value, 'a policy name has no blanks or punctuation other than _ . : + -');
  return { kind: 'policy', policy: v };
}

/** Parse without throwing: the spec, or the error's message. */
export function tryArchiveSpec(value: string): { spec: ArchiveSpec } | { error: string } {
  try {
    return { spec: parseArchiveSpec(value) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The appliances an `archiver` property value names (comma- or blank-separated); empty for none. */
export function parseArchiverList(value: string | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return [...new Set(value.split(/[\s,]+/).filter((s) => s !== ''))];
}

/** A period as the appliance writes it (Java float style: "1.0", "0.5", "10.0"). */
export function formatPeriod(period: number): string {
  return Number.isInteger(period) ? period.toFixed(1) : String(period);
}

/** Two periods the appliance would store as the same float. */
export function samePeriod(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The spec written back in its canonical form (`monitor@1.0`, a policy name, `default`). */
export function formatArchiveSpec(spec: ArchiveSpec): string {
  if (spec.kind === 'default') return 'default';
  if (spec.kind === 'policy') return spec.policy;
  return `${spec.method.toLowerCase()}@${formatPeriod(spec.period)}`;
}

function specError(value: string, why: string): PvsError {
  return new PvsError('PVS_ARCHIVE_SPEC', `archive "${value}": ${why} (expected default, a policy name, `
    + 'monitor@PERIOD or scan@PERIOD)');
}
