/**
 * One parser for the numeric, duration and list values of every command's options, and the same rules for values
 * from the environment and from config files: a bad value is a PVS_CONFIG error naming the option and the value
 * (`--timeout must be a duration in seconds > 0 (10, 2.5s, 500ms, 1m), got "abc"`), never NaN.
 *
 * Declare an option with `numberOption` / `listOption` (commander parses the value, an environment variable given
 * with `env` included, before the action runs); check a value from elsewhere with `parseOptionValue` / `parseList`,
 * or inside a zod schema with `zValue`.
 */
import { Option } from 'commander';
import { z } from 'zod';
import { PvsError } from '../core/errors.js';

/** Bounds of a number: `min`/`max` inclusive, `above` exclusive (`above: 0` is "positive"). */
export interface Bounds {
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
}

/**
 * What a value must be. `seconds` and `ms` are durations in that unit: a plain number is in the unit, a number with
 * a unit suffix (`ms`, `s`, `m`, `h`) is converted into it.
 */
export type ValueRule =
  | ({ readonly kind: 'integer' } & Bounds)
  | ({ readonly kind: 'number' } & Bounds)
  | ({ readonly kind: 'seconds' } & Bounds)
  | ({ readonly kind: 'ms' } & Bounds)
  | { readonly kind: 'port' };

/** Rules that recur: a TCP port, a count of at least one, a positive number of seconds. */
export const PORT: ValueRule = { kind: 'port' };
export const COUNT: ValueRule = { kind: 'integer', min: 1 };
export const POSITIVE_SECONDS: ValueRule = { kind: 'seconds', above: 0 };

/** The outcome of reading one value: the number, or what the value should have been. */
export type ValueReading = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly expected: string };

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const DURATION = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(ms|s|m|h)$/i;

function boundsText(b: Bounds): string {
  const parts: string[] = [];
  if (b.above !== undefined) parts.push(`> ${b.above}`);
  if (b.min !== undefined) parts.push(`≥ ${b.min}`);
  if (b.max !== undefined) parts.push(`≤ ${b.max}`);
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

/** What a value of this rule looks like, for error messages and help. */
export function describeRule(rule: ValueRule): string {
  switch (rule.kind) {
    case 'port': return 'a TCP port (1-65535)';
    case 'integer': return `an integer${boundsText(rule)}`;
    case 'number': return `a number${boundsText(rule)}`;
    case 'seconds': return `a duration in seconds${boundsText(rule)} (10, 2.5s, 500ms, 1m)`;
    case 'ms': return `a duration in milliseconds${boundsText(rule)} (500, 500ms, 2s, 1m)`;
  }
}

function inBounds(v: number, b: Bounds): boolean {
  return (b.above === undefined || v > b.above) && (b.min === undefined || v >= b.min) && (b.max === undefined || v <= b.max);
}

/** Read `raw` by `rule` without throwing (a number passes as is; a string is trimmed first). */
export function readValue(raw: string | number, rule: ValueRule): ValueReading {
  const bad: ValueReading = { ok: false, expected: describeRule(rule) };
  let v: number;
  if (typeof raw === 'number') {
    v = raw;
  } else {
    const text = raw.trim();
    const unit = rule.kind === 'seconds' || rule.kind === 'ms' ? DURATION.exec(text) : null;
    if (unit !== null) {
      const ms = Number(unit[1]) * (UNIT_MS[(unit[2] ?? '').toLowerCase()] ?? Number.NaN);
      v = rule.kind === 'seconds' ? ms / 1000 : ms;
    } else if (NUMBER.test(text)) {
      v = Number(text);
    } else {
      return bad;
    }
  }
  if (!Number.isFinite(v)) return bad;
  switch (rule.kind) {
    case 'port': return Number.isInteger(v) && v >= 1 && v <= 65535 ? { ok: true, value: v } : bad;
    case 'integer': return Number.isSafeInteger(v) && inBounds(v, rule) ? { ok: true, value: v } : bad;
    default: return inBounds(v, rule) ? { ok: true, value: v } : bad;
  }
}

/** `raw` read by `rule`; a PVS_CONFIG error naming `option` and the value otherwise. */
export function parseOptionValue(option: string, raw: string | number, rule: ValueRule): number {
  const r = readValue(raw, rule);
  if (!r.ok) throw new PvsError('PVS_CONFIG', `${option} must be ${r.expected}, got ${JSON.stringify(raw)}`);
  return r.value;
}

/** A comma-separated list: items trimmed, empty ones dropped; fewer than `min` items is a PVS_CONFIG error. */
export function parseList(option: string, raw: string, min = 0): string[] {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length < min) {
    throw new PvsError('PVS_CONFIG', `${option} must be a comma-separated list of at least ${min} item${min === 1 ? '' : 's'}, got ${JSON.stringify(raw)}`);
  }
  return items;
}

const PARSED = new WeakSet<Option>();

/** Whether an option's value goes through this module (the option-walk test checks every numeric option does). */
export function isParsedOption(o: Option): boolean {
  return PARSED.has(o);
}

function nameOf(o: Option): string {
  const flag = o.long ?? o.short ?? o.name();
  return o.envVar === undefined ? flag : `${flag} (or env ${o.envVar})`;
}

/** Extras of a declared option: its default (shown in help) and an environment variable that stands in for it. */
export interface OptionExtras<T> {
  readonly fallback?: T;
  readonly env?: string;
}

function finish<T>(o: Option, extras: OptionExtras<T>, shown?: string): Option {
  if (extras.env !== undefined) o.env(extras.env);
  if (extras.fallback !== undefined) o.default(extras.fallback, shown);
  PARSED.add(o);
  return o;
}

/**
 * A numeric or duration option (`flags` like `--timeout <seconds>`) whose value commander parses by `rule` before
 * the action runs; add it with `cmd.addOption(...)`. The action receives a number.
 */
export function numberOption(flags: string, help: string, rule: ValueRule, extras: OptionExtras<number> = {}): Option {
  const o = new Option(flags, help);
  o.argParser((raw: string) => parseOptionValue(nameOf(o), raw, rule));
  return finish(o, extras, extras.fallback === undefined ? undefined : String(extras.fallback));
}

/** A comma-separated list option; the action receives the items (trimmed, empty ones dropped). */
export function listOption(flags: string, help: string, extras: OptionExtras<readonly string[]> & { readonly min?: number } = {}): Option {
  const o = new Option(flags, help);
  o.argParser((raw: string) => parseList(nameOf(o), raw, extras.min ?? 0));
  return finish(o, extras, extras.fallback?.join(','));
}

/** A zod schema for a value by `rule` from a config file or the environment (a number, or a string to parse). */
export function zValue(rule: ValueRule): z.ZodType<number, string | number> {
  return z.union([z.number(), z.string()]).transform((raw, ctx) => {
    const r = readValue(raw, rule);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: `must be ${r.expected}, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  });
}
