/**
 * Reading a Server-Sent Events body as `pvsync serve`'s watch stream writes it (`event:`, `id:`, `data:` lines, a
 * blank line after each event), with an idle deadline: a stream on which nothing arrives, not even the server's
 * `progress` heartbeat, is taken as lost (a frozen server or a cut-off network answers nothing rather than closing).
 */

/** Why reading stopped, when it was not the end of the body. */
export class SseIdle extends Error {
  constructor(idleMs: number) {
    super(`nothing received on the watch stream for ${idleMs} ms`);
    this.name = 'SseIdle';
  }
}

/**
 * Call `on` for each event of `body` until it ends. When nothing arrives for `idleMs`, `cut` is called with an
 * SseIdle (it should abort the request, which ends the iteration).
 */
export async function readSse(
  body: ReadableStream<Uint8Array>, on: (type: string, id: number, data: unknown) => void, idleMs: number, cut: (why: SseIdle) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  let idle = setTimeout(() => cut(new SseIdle(idleMs)), idleMs);
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      clearTimeout(idle);
      idle = setTimeout(() => cut(new SseIdle(idleMs)), idleMs);
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let type = 'message';
        let id = 0;
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        let parsed: unknown = data;
        try {
          parsed = JSON.parse(data);
        } catch {
          // keep the text
        }
        on(type, id, parsed);
      }
    }
  } finally {
    clearTimeout(idle);
  }
}
