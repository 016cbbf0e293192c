// Images and documents given as data URLs or remote URLs, shared by every dialect.
import type { MediaSource } from '../../engine/types.js';
import { GatewayError } from '../../errors.js';

export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function parseDataUrl(url: string, param: string): { mediaType: string; data: string } {
  const m = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (!m) throw new GatewayError('invalid_request', `'${param}' must be a base64 data URL (data:<type>;base64,...).`, { param });
  return { mediaType: (m[1] ?? 'application/octet-stream').toLowerCase(), data: m[2].replace(/\s+/g, '') };
}

/** An image reference from a client: a data URL becomes base64; an http(s) URL stays a URL. */
export function imageSource(url: string, param: string): MediaSource {
  if (url.startsWith('data:')) {
    const { mediaType, data } = parseDataUrl(url, param);
    if (!IMAGE_TYPES.has(mediaType)) {
      throw new GatewayError('invalid_request', `Unsupported image type '${mediaType}' in '${param}'; use PNG, JPEG, GIF or WebP.`, { param });
    }
    return { type: 'base64', mediaType, data };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw new GatewayError('invalid_request', `'${param}' must be a data URL or an http(s) URL.`, { param });
}
