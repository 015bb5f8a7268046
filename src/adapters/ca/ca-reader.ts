/**
 * Channel Access reads for the stand-in appliance's sampler, on epics-tca: `latest(pv)` answers the value of the
 * last successful read (if recent) and starts the next read in the background, one in flight per PV. A PV whose
 * IOC cannot be reached is tried again after `retryMs`; meanwhile `latest` answers undefined.
 */
import type { Channel, Context } from 'epics-tca';
import type { Logger } from 'pino';
import { messageOf } from '../../core/errors.js';
import { openCaContext } from './ca-probe.js';

// epics-tca's Channel_STATES.CREATED and type_log_levels.error (not exported from the package root).
const CHANNEL_CREATED = 3;

interface PvState {
  channel: Channel | undefined;
  inFlight: boolean;
  value: number | string | undefined;
  at: number;
  retryAt: number;
}

/** Background CA reads of many PVs through one client context. */
export class CaReader {
  private readonly pvs = new Map<string, PvState>();

  private constructor(private readonly context: Context, private readonly log: Logger,
    private readonly timeoutS: number, private readonly retryMs: number) {}

  /** Start a CA client context with the EPICS_CA_* variables of `env`. */
  static async open(env: Readonly<Record<string, string>>, log: Logger, timeoutS = 1, retryMs = 5000): Promise<CaReader> {
    const context = await openCaContext(env);
    return new CaReader(context, log.child({ component: 'ca-reader' }), timeoutS, retryMs);
  }

  /** The value last read from `pv` within `maxAgeMs` of `now`, or undefined; schedules the next read. */
  latest(pv: string, now: number, maxAgeMs = 1000): number | string | undefined {
    let s = this.pvs.get(pv);
    if (s === undefined) {
      s = { channel: undefined, inFlight: false, value: undefined, at: 0, retryAt: 0 };
      this.pvs.set(pv, s);
    }
    if (!s.inFlight && now >= s.retryAt) void this.read(pv, s);
    return now - s.at <= maxAgeMs ? s.value : undefined;
  }

  private async read(pv: string, s: PvState): Promise<void> {
    s.inFlight = true;
    try {
      if (s.channel === undefined || s.channel.getState() !== CHANNEL_CREATED) {
        const old = s.channel;
        s.channel = undefined;
        if (old !== undefined) await old.destroyHard().catch(() => undefined);
        s.channel = await this.context.createChannel(pv, 'ca', this.timeoutS);
      }
      const d = s.channel === undefined ? undefined : await s.channel.get(this.timeoutS);
      const v = d?.value;
      const scalar = Array.isArray(v) ? v[0] : v;
      if (typeof scalar === 'number' || typeof scalar === 'string') {
        s.value = scalar;
        s.at = Date.now();
      } else {
        s.retryAt = Date.now() + this.retryMs;
      }
    } catch (err) {
      this.log.debug({ pv, err: messageOf(err) }, 'read failed');
      s.retryAt = Date.now() + this.retryMs;
    } finally {
      s.inFlight = false;
    }
  }

  /** Stop reading `pv` (it is no longer sampled). */
  forget(pv: string): void {
    const s = this.pvs.get(pv);
    this.pvs.delete(pv);
    if (s?.channel !== undefined) void s.channel.destroyHard().catch(() => undefined);
  }

  /** Close every channel and the context. */
  close(): void {
    this.context.destroyHard();
  }
}
