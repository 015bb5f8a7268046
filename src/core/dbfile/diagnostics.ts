/** Collects the diagnostics of one parse, each naming file, line and column (counted from 1). */
import type { Diagnostic } from '../model.js';

/** Upper bound of diagnostics kept per parse: a broken generated file must not produce millions of them. */
export const MAX_DIAGNOSTICS = 10_000;

/** An append-only list of diagnostics with one helper per severity; beyond MAX_DIAGNOSTICS one note says so. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  private dropped = 0;

  /** Add one diagnostic; line and col are clamped to at least 1. */
  add(severity: Diagnostic['severity'], file: string, line: number, col: number, message: string): void {
    if (this.list.length >= MAX_DIAGNOSTICS) {
      this.dropped++;
      return;
    }
    this.list.push({ file, line: Math.max(1, line), col: Math.max(1, col), severity, message });
  }

  /** An error: something the IOC refuses or could not read. */
  error(file: string, line: number, col: number, message: string): void { this.add('error', file, line, col, message); }
  /** A warning: the IOC accepts it but it is probably not what was meant. */
  warning(file: string, line: number, col: number, message: string): void { this.add('warning', file, line, col, message); }
  /** A note: something deliberately skipped. */
  note(file: string, line: number, col: number, message: string): void { this.add('note', file, line, col, message); }

  /** Number of errors so far. */
  get errors(): number { return this.list.filter((d) => d.severity === 'error').length; }

  /** The diagnostics, with a final note when some were dropped. */
  finish(file: string): Diagnostic[] {
    if (this.dropped > 0) {
      this.list.push({ file, line: 1, col: 1, severity: 'note', message: `${this.dropped} further diagnostics were dropped` });
      this.dropped = 0;
    }
    return this.list;
  }
}
