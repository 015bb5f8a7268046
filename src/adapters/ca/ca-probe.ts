/**
 * A Channel Access probe on epics-tca: "does this PV answer a read right now?". Keeps one channel open and reads it;
 * when the channel is gone (IOC stopped, network cut) it is created again at the next probe.
 */
import { Context, type Channel } from 'epics-tca';
import type { Logger } from 'pino';
import { PvsError, messageOf } from '../../core/errors.js';

// epics-tca's Channel_STATES.CREATED: connected to a server (the enum is not exported from the package root).
const CHANNEL_CREATED = 3;
// epics-tca's type_log_levels.error: it prints every packet at lower levels.
const TCA_LOG_ERROR = 4;

/** The CA client variables epics-tca reads (as the IOC's clients would see them). */
export type CaEnvironment = Readonly<Record<string, string>>;

/** A started CA client context configured by the EPICS_CA_* variables of `env` (PVS_CONFIG when it cannot start). */
export async function openCaContext(env: CaEnvironment): Promise<Context> {
  const caEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('EPICS_CA_')) caEnv[k] = v;
  const context = new Context(caEnv, TCA_LOG_ERROR as never);
  try {
    await context.initialize();
  } catch (err) {
    throw new PvsError('PVS_CONFIG', `cannot start a Channel Access client: ${messageOf(err)}`, { cause: err });
  }
  return context;
}

/** Probes one PV; `probe()` never throws, it answers false. */
export class CaProbe {
  private channel: Channel | undefined;

  private constructor(private readonly context: Context, private readonly pv: string, private readonly log: Logger) {}

  /** Start a CA client context (UDP sockets, repeater registration) for probing `pv`. */
  static async open(pv: string, env: CaEnvironment, log: Logger): Promise<CaProbe> {
    const context = await openCaContext(env);
    return new CaProbe(context, pv, log.child({ component: 'ca-probe', pv }));
  }

  /** Read the PV within `timeoutS` seconds; true when a value came back. */
  async probe(timeoutS: number): Promise<boolean> {
    try {
      if (this.channel === undefined || this.channel.getState() !== CHANNEL_CREATED) {
        const old = this.channel;
        this.channel = undefined;
        if (old !== undefined) await old.destroyHard().catch(() => undefined);
        this.channel = await this.context.createChannel(this.pv, 'ca', timeoutS);
        if (this.channel === undefined) return false;
      }
      return (await this.channel.get(timeoutS)) !== undefined;
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'probe failed');
      return false;
    }
  }

  /** Close the channel and the context. */
  close(): void {
    this.context.destroyHard();
  }
}
