/** What an archiver agent is given: its settings (archiver-config.ts resolves them) and its collaborators. */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { HealthCheck } from '../adapters/health/checks.js';
import type { CheckScope, HealthPolicy } from '../core/election/health.js';
import type { Endpoints } from '../core/election/records.js';

/** Everything an agent needs to know (resolved from options, environment and config file by archiver-config.ts). */
export interface AgentConfig {
  readonly node: string;
  readonly group: string;
  readonly root: string;
  readonly ttlS: number;
  readonly marginMs: number;
  readonly start: readonly string[];
  readonly stop: readonly string[];
  readonly hookTimeoutMs: number;
  readonly healthIntervalMs: number;
  readonly healthPolicy: HealthPolicy;
  readonly published: Endpoints;
  readonly watchdogFile: string | null;
  readonly switchoverHoldBackMs: number;
}

/** A health check with the scope it counts in. */
export interface ScopedCheck {
  readonly check: HealthCheck;
  readonly scope: CheckScope;
}

/** Collaborators of the agent (injected so tests and the CLI compose them). */
export interface AgentDeps {
  readonly client: Etcd3;
  readonly log: Logger;
  readonly checks: readonly ScopedCheck[];
  /** Environment handed to hooks (the agent adds PVSYNC_* variables). */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly now?: () => number;
}
