// Small real media for tests, and a parser for raw SSE bodies.

/** A 1x1 PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
export const PNG_DATA_URL = `data:image/png;base64,${PNG_BASE64}`;
/** A one-page PDF. */
export const PDF_BASE64 =
  'JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqCjIgMCBvYmo8PC9UeXBlL1BhZ2VzL0tpZHNbMyAwIFJdL0NvdW50IDE+PmVuZG9iagozIDAgb2JqPDwvVHlwZS9QYWdlL1BhcmVudCAyIDAgUi9NZWRpYUJveFswIDAgMjAwIDIwMF0+PmVuZG9iagp0cmFpbGVyPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==';

export interface SseEvent {
  event: string | undefined;
  data: any;
}

/** Parse an SSE body into its events (comments and [DONE] dropped). */
export function readSse(body: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const chunk of body.split('\n\n')) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of chunk.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (!data.length || data.join('') === '[DONE]') continue;
    out.push({ event, data: JSON.parse(data.join('\n')) });
  }
  return out;
}

/** The comments (`: ...`) and event names of an SSE body, in order. */
export function sseLines(body: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(':') || l.startsWith('event: '));
}
