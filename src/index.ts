/**
 * What the pvsync package exports for programs: the failover ChannelFinder client over several installations and
 * the installations file's parsing and choices (nearest installation, failover order).
 */
export { FailoverClient, type ClientChannel, type ClientEndpoint, type ClientReply, type FailoverClientOptions, type WatchEvent } from './adapters/cf-client/failover-client.js';
export {
  DATA_TYPE_NAMES, failoverOrder, holdersOf, nearestInstallation, parseInstallations,
  type DataType, type Flow, type Installation, type Installations,
} from './core/installations/config.js';
export { PvsError, isPvsError } from './core/errors.js';
