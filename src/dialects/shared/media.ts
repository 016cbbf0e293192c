// Images and documents given as data URLs, base64 or remote URLs, shared by every dialect. Base64
// media is checked as the Anthropic API checks it, so a client gets a 400 naming the field instead of
// an upstream failure: the data must be valid base64, not empty, and its bytes must be what the
// declared media type says (PNG, JPEG, GIF or WebP for images; %PDF for application/pdf).
//
// The bytes are recognised by their magic numbers: five fixed signatures, a dozen lines, against a
// file-type library that would bring several packages for formats the API does not take.
import type { MediaSource } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';

export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** What the first bytes of a file say it is, for the types the API takes (and PDF as a non-image). */
export function sniffMediaType(head: Uint8Array): string | undefined {
  const at = (i: number, bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  const ascii = (i: number, s: string) => at(i, [...s].map((ch) => ch.charCodeAt(0)));
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(0, '%PDF-')) return 'application/pdf';
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalidData(param: string, why: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid '${param}': ${why}`, { param, code: 'invalid_value' });
}

/** The first bytes of base64 data, once the data is known to be valid base64. */
function headOf(data: string): Buffer {
  return Buffer.from(data.slice(0, 24), 'base64');
}

/**
 * Checks base64 media as the Anthropic API does; throws a 400 naming `param` (the data field).
 * `kind` says what the block is: an image must be one of IMAGE_TYPES and look like it; a document
 * declared application/pdf must start with %PDF.
 */
export function checkBase64Media(kind: 'image' | 'document', mediaType: string, data: string, param: string): void {
  if (!data.length) throw invalidData(param, `the ${kind} data is empty.`);
  if (!BASE64.test(data) || data.replace(/=+$/, '').length % 4 === 1) throw invalidData(param, `the ${kind} data is not valid base64.`);
  const found = sniffMediaType(headOf(data));
  if (kind === 'image') {
    if (found === mediaType) return;
    if (found) throw invalidData(param, `the image was specified using the ${clip(mediaType)} media type, but it appears to be ${found === 'application/pdf' ? 'a PDF document' : `an ${found} image`}.`);
    throw invalidData(param, `the data is not a PNG, JPEG, GIF or WebP image (declared ${clip(mediaType)}).`);
  }
  if (mediaType === 'application/pdf' && found !== 'application/pdf') {
    throw invalidData(param, `the document was specified as application/pdf, but it is not a PDF (it does not start with %PDF).`);
  }
}

/** Plain text sent as base64 (a text/plain file): checked, then decoded. */
export function decodeBase64Text(data: string, param: string): string {
  if (!BASE64.test(data) || data.replace(/=+$/, '').length % 4 === 1) throw invalidData(param, 'the file data is not valid base64.');
  return Buffer.from(data, 'base64').toString('utf8');
}

export function parseDataUrl(url: string, param: string): { mediaType: string; data: string } {
  const m = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (!m) throw new GatewayError('invalid_request', `'${param}' must be a base64 data URL (data:<type>;base64,...).`, { param });
  return { mediaType: (m[1] ?? 'application/octet-stream').toLowerCase(), data: m[2].replace(/\s+/g, '') };
}

/** A base64 image from a client, checked: its declared type must be one the API takes, and its bytes that type. */
export function base64Image(mediaType: string, data: string, param: string, typeParam = param): MediaSource {
  if (!IMAGE_TYPES.has(mediaType)) {
    throw new GatewayError('invalid_request', `Unsupported image type '${clip(mediaType)}' in '${param}'; use PNG, JPEG, GIF or WebP.`, { param: typeParam });
  }
  checkBase64Media('image', mediaType, data, param);
  return { type: 'base64', mediaType, data };
}

/** An image reference from a client: a data URL becomes (checked) base64; an http(s) URL stays a URL. */
export function imageSource(url: string, param: string): MediaSource {
  if (url.startsWith('data:')) {
    const { mediaType, data } = parseDataUrl(url, param);
    return base64Image(mediaType, data, param);
  }
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw new GatewayError('invalid_request', `'${clip(param, 200)}' must be a data URL or an http(s) URL.`, { param });
}
