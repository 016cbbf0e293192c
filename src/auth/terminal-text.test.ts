import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyOAuthError } from './login-session.js';
import { findAuthorizeUrl, findOAuthToken, findValidity, normalizeTerminal } from './terminal-text.js';

// Captured from the real `claude setup-token` (2.1.331) in a 500-column PTY.
const REAL =
  '\u001b[2GBrowser\u001b[10Gdidn\'t\u001b[17Gopen?\u001b[23GUse\u001b[27Gthe\u001b[31GURL\u001b[35Gbelow\u001b[41Gto\u001b[44Gsign\u001b[49Gin\u001b[52G\u001b[38;5;246m(c\u001b[55Gto\u001b[58Gcopy)\u001b[39m\r\r\n\r\r\n' +
  '\u001b]8;id=108u89n;https://claude.ai/oauth/authorize?Ier_wX1GcJuwgYF1R49evfRdfdbsqYB4johL_avmymb4\u0007\u001b[38;5;246mhttps://claude.ai/oauth/authorize?Ier_wX1GcJuwgYF1R49evfRdfdbsqYB4johL_avmymb4\u001b[39m\u001b]8;;\u0007\r\r\n\r\r\n' +
  '\u001b[2GPaste\u001b[8Gcode\u001b[13Ghere\u001b[18Gif\u001b[21Gprompted\r\r\n\u001b[3C\u001b[2A';

test('cursor moves become spaces and line breaks; OSC-8 targets are collected', () => {
  const t = normalizeTerminal(REAL);
  assert.match(t.text, /Browser didn't open\? Use the URL below to sign in \(c to copy\)/);
  assert.match(t.text, /Paste code here if prompted/);
  assert.equal(findAuthorizeUrl(t), 'https://claude.ai/oauth/authorize?Ier_wX1GcJuwgYF1R49evfRdfdbsqYB4johL_avmymb4');
});

test('the hyperlink target wins over shortened visible text; ST-terminated OSC works; text is the fallback', () => {
  const osc = normalizeTerminal('\x1b]8;;https://claude.ai/oauth/authorize?full=1&state=abc\x1b\\https://claude.ai/oauth/autho…\x1b]8;;\x1b\\\n');
  assert.equal(findAuthorizeUrl(osc), 'https://claude.ai/oauth/authorize?full=1&state=abc');
  const plain = normalizeTerminal('\x1b[38;5;246mhttps://claude.ai/oauth/authorize?x=1\x1b[39m\r\n');
  assert.equal(findAuthorizeUrl(plain), 'https://claude.ai/oauth/authorize?x=1');
  assert.equal(findAuthorizeUrl(normalizeTerminal('You can revoke it at https://claude.ai/settings\n')), undefined);
});

test('a sequence cut at the end of a chunk is held back, not printed as text', () => {
  assert.equal(normalizeTerminal('Paste\x1b[8').text, 'Paste');
  assert.equal(normalizeTerminal('Paste\x1b[8Gcode').text, 'Paste code');
});

test('a token is taken only once it is complete', () => {
  const tok = 'sk-ant-oat01-' + 'a'.repeat(40) + '_-Z';
  assert.equal(findOAuthToken(`\n${tok.slice(0, 30)}`), undefined);
  assert.equal(findOAuthToken(`\n${tok}`), undefined, 'more may follow');
  assert.equal(findOAuthToken(normalizeTerminal(`\x1b[33m${tok}\x1b[39m\r\r\n`).text), tok);
});

test('validity and CLI error wording', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(findValidity('Your OAuth token (valid for 1 year):', now), new Date(now + 365 * 86400_000).toISOString());
  assert.equal(classifyOAuthError("Couldn't get an answer from the sign-in service (ENOTFOUND). Check your internet connection"), 'unreachable');
  assert.equal(classifyOAuthError('Authentication failed: Invalid authorization code'), 'bad_code');
  assert.equal(classifyOAuthError('Token exchange failed (400): Bad Request'), 'bad_code');
  assert.equal(classifyOAuthError('Something else entirely'), 'sign_in_failed');
});
