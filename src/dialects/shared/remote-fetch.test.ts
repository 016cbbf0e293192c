// The remote media fetcher's limits, against a local server (reachable only by widening the address
// check, as the gateway never does), and the structured-output schema check.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../../errors.js';
import { checkOutputSchema } from './output-schema.js';
import { fetchRemoteMedia, isPublicAddress } from './remote-fetch.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/a.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    if (req.url === '/big.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(4096));
    if (req.url === '/page.html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>');
    if (req.url === '/hop') return res.writeHead(302, { location: '/a.png' }).end();
    if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
    if (req.url === '/hang') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const png = (t: string) => t === 'image/png';
/** Loopback allowed (the test server), everything else by the real rule. */
const localToo = { allowAddress: (ip: string) => ip === '127.0.0.1' || isPublicAddress(ip), maxBytes: 1024, timeoutMs: 2000 };
const refused = (re: RegExp) => (e: unknown) => e instanceof GatewayError && e.status === 400 && re.test(e.message);

describe('isPublicAddress', () => {
  test('only public unicast addresses pass', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888']) assert.equal(isPublicAddress(ip), true, ip);
    const blocked = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2002:7f00:1::1', '224.0.0.1', 'nonsense'];
    for (const ip of blocked) assert.equal(isPublicAddress(ip), false, ip);
  });
});

describe('fetchRemoteMedia', () => {
  test('fetches within the limits and follows a redirect', async () => {
    const got = await fetchRemoteMedia(`${base}/hop`, png, localToo);
    assert.deepEqual(got, { mediaType: 'image/png', data: PNG.toString('base64') });
  });

  test('by default loopback is refused, by literal and by name after DNS resolution', async () => {
    const limits = { maxBytes: 1024, timeoutMs: 2000 };
    await assert.rejects(fetchRemoteMedia(`${base}/a.png`, png, limits), refused(/not public/));
    await assert.rejects(fetchRemoteMedia(base.replace('127.0.0.1', 'localhost') + '/a.png', png, limits), refused(/not public/));
  });

  test('a redirect to a private address is refused', async () => {
    await assert.rejects(fetchRemoteMedia(`${base}/to-metadata`, png, localToo), refused(/not public/));
  });

  test('size, content type, status, scheme and time are capped', async () => {
    await assert.rejects(fetchRemoteMedia(`${base}/big.png`, png, localToo), refused(/larger than 1024 bytes/));
    await assert.rejects(fetchRemoteMedia(`${base}/page.html`, png, localToo), refused(/content type 'text\/html'/));
    await assert.rejects(fetchRemoteMedia(`${base}/missing`, png, localToo), refused(/answered 404/));
    await assert.rejects(fetchRemoteMedia('file:///etc/passwd', png, localToo), refused(/only http/));
    await assert.rejects(fetchRemoteMedia(`${base}/hang`, png, { ...localToo, timeoutMs: 300 }), refused(/no answer within 300 ms/));
  });
});

describe('checkOutputSchema', () => {
  test('accepts draft-07 and newer-draft object schemas, without $schema', () => {
    const s = checkOutputSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { a: { $ref: '#/$defs/x' } }, $defs: { x: { type: 'string', format: 'email' } } }, 'p');
    assert.equal(s.$schema, undefined);
    assert.equal(s.type, 'object');
  });

  test('refuses what the CLI cannot use, naming the field', () => {
    const bad = [{ type: 'array' }, { properties: {} }, { type: 'object', properties: { a: { type: 'nope' } } }, { type: 'object', foo: 1 }, { type: 'object', properties: { a: { $ref: '#/missing' } } }];
    for (const schema of bad) {
      assert.throws(() => checkOutputSchema(schema, 'text.format.schema'), (e: unknown) => e instanceof GatewayError && e.extra.param === 'text.format.schema', JSON.stringify(schema));
    }
  });
});
