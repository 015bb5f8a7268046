/**
 * Reusable response buffers for large JSON pages. Allocating a fresh 100 KB–10 MB buffer per request makes V8
 * collect garbage for "external memory pressure" every few dozen requests (a 4 ms pause with a 1 GB heap); a buffer
 * taken here goes back to the pool once the response was handed to the OS.
 */
import type { ServerResponse } from 'node:http';

// Sizes are powers of two from 2^MIN_SHIFT to 2^MAX_SHIFT bytes; larger pages are not pooled.
const MIN_SHIFT = 12;
const MAX_SHIFT = 24;
// Free buffers kept per size (a few per connection in flight is plenty).
const KEEP_PER_SIZE = 8;

/** Pool of Buffers by power-of-two size. */
export class BufferPool {
  private readonly free: Buffer[][] = Array.from({ length: MAX_SHIFT + 1 }, () => []);

  /** A buffer of at least `bytes` (uninitialised contents). */
  take(bytes: number): Buffer {
    const shift = Math.max(MIN_SHIFT, Math.ceil(Math.log2(Math.max(1, bytes))));
    if (shift > MAX_SHIFT) return Buffer.allocUnsafeSlow(bytes);
    return this.free[shift]?.pop() ?? Buffer.allocUnsafeSlow(2 ** shift);
  }

  /** Return `buf` (from take) once nothing reads it any more. */
  give(buf: Buffer): void {
    const shift = Math.log2(buf.length);
    const list = Number.isInteger(shift) && shift >= MIN_SHIFT ? this.free[shift] : undefined;
    if (list !== undefined && list.length < KEEP_PER_SIZE) list.push(buf);
  }

  /**
   * `buf` goes back to the pool when `res` has handed its last bytes to the OS ('finish'); a response that closes
   * without finishing may still have a write in flight, so its buffer is left to the garbage collector.
   */
  giveAfter(res: ServerResponse, buf: Buffer): void {
    res.once('finish', () => this.give(buf));
  }
}
