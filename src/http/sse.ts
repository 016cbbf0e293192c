// A server-sent-events response whose producer writes strings; a keepalive is written whenever the
// producer has been silent for keepaliveMs (each dialect chooses its own: an SSE comment for OpenAI,
// a ping event for Anthropic). The response carries X-Accel-Buffering: no so proxies do not batch.
// No Connection header: Node's server keeps the connection alive, or closes it after the stream when
// the client asked for `Connection: close`.
export interface SseSink {
  write(chunk: string): void;
  /** End the response now (a shutdown cutting the stream); later writes are dropped. */
  end(): void;
  readonly closed: boolean;
}

export interface SseOptions {
  keepaliveMs: number;
  keepalive: string;
  /** Called when the client goes away before the producer finished. */
  onCancel: () => void;
  produce: (sink: SseSink) => Promise<void>;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

export function sseResponse(opts: SseOptions, headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (closed) return;
          controller.enqueue(encoder.encode(opts.keepalive));
          arm();
        }, opts.keepaliveMs);
      };
      const end = () => {
        clearTimeout(timer);
        if (!closed) {
          closed = true;
          controller.close();
        }
      };
      const sink: SseSink = {
        write(chunk) {
          if (closed) return;
          controller.enqueue(encoder.encode(chunk));
          arm();
        },
        end,
        get closed() {
          return closed;
        },
      };
      arm();
      void opts
        .produce(sink)
        .catch(() => {})
        .finally(end);
    },
    cancel() {
      closed = true;
      clearTimeout(timer);
      opts.onCancel();
    },
  });
  return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}
