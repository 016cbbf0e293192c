// Replaces remote (URL) images and documents in a TurnRequest with their bytes, before the turn
// starts. Off by default: a request naming a URL is then a clear 400 asking for inline data. When an
// operator turns fetchRemoteImages on, the gateway fetches within limits (see remote-fetch.ts); the
// CLI never receives a URL to fetch.
import type { GatewayConfig } from '../../config/config.js';
import type { Part, TurnRequest } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';
import { IMAGE_TYPES, sniffMediaType } from './media.js';
import { fetchRemoteMedia, type FetchLimits } from './remote-fetch.js';

type MediaPart = Extract<Part, { type: 'image' | 'document' }>;

function collect(parts: Part[], out: MediaPart[]): void {
  for (const p of parts) {
    if ((p.type === 'image' || p.type === 'document') && p.source.type === 'url') out.push(p);
    else if (p.type === 'tool_result') collect(p.content, out);
  }
}

export async function resolveRemoteMedia(
  req: TurnRequest,
  config: Pick<GatewayConfig, 'fetchRemoteImages' | 'remoteImageMaxBytes' | 'remoteImageTimeoutMs'>,
  extra: Partial<FetchLimits> = {},
): Promise<TurnRequest> {
  const remote: MediaPart[] = [];
  for (const m of req.messages) collect(m.content, remote);
  if (!remote.length) return req;
  if (!config.fetchRemoteImages) {
    throw new GatewayError(
      'invalid_request',
      'This gateway does not fetch remote URLs for images or documents; send them inline as base64 (a data URL).',
      { code: 'remote_media_disabled' },
    );
  }
  const limits: FetchLimits = { maxBytes: config.remoteImageMaxBytes, timeoutMs: config.remoteImageTimeoutMs, ...extra };
  await Promise.all(
    remote.map(async (p) => {
      const url = (p.source as { url: string }).url;
      const accept = p.type === 'image' ? (t: string) => IMAGE_TYPES.has(t) : (t: string) => t === 'application/pdf';
      const got = await fetchRemoteMedia(url, accept, limits);
      // The server's content type is a claim: the bytes decide (a mislabelled PNG is still a PNG,
      // HTML served as image/png is refused), as the API would refuse a mismatch.
      const found = sniffMediaType(Buffer.from(got.data.slice(0, 24), 'base64'));
      if (!found || !accept(found)) {
        throw new GatewayError('invalid_request', `Could not use '${clip(url)}': its content is not ${p.type === 'image' ? 'a PNG, JPEG, GIF or WebP image' : 'a PDF'}.`, { code: 'remote_fetch_failed' });
      }
      // Parts are built fresh per request by the adapter, so replacing in place is safe.
      p.source = { type: 'base64', mediaType: found, data: got.data };
    }),
  );
  return req;
}
