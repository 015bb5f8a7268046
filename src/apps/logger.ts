/** The root logger of a process: pino JSON to stderr, level from PVSYNC_LOG_LEVEL (default info). */
import { pino, type Logger } from 'pino';

/** Create the root logger; components take `log.child({ component })`. */
export function rootLogger(name: string): Logger {
  return pino({ name, level: process.env['PVSYNC_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
}
