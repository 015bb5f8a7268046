/**
 * A raw HTTP client for Server-Sent Event streams in tests: one request on its own connection (from a chosen local
 * address, since servers limit streams per client address), the text received so far, and when the stream ended.
 */
import { request, type IncomingMessage } from 'node:http';

/** An open (or refused) stream. */
export interface SseStream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Text received so far. */
  text(): string;
  /** Resolves when the server ended the stream or the connection closed. */
  readonly ended: Promise<void>;
  close(): void;
}

/** GET `path` on 127.0.0.1:`port` from `localAddress`; resolves once the response head arrived. */
export function openSse(port: number, path: string, headers: Record<string, string> = {}, localAddress = '127.0.0.1'): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text: () => text, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}
