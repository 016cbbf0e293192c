#!/usr/bin/env node
// A scripted stand-in for `claude setup-token`, drawn like the real CLI's TUI: words placed with
// cursor moves, the sign-in URL as an OSC-8 hyperlink whose visible text is shortened, a boxed
// paste prompt, and the token written in two pieces. The pasted code chooses what happens:
//   bad      -> "OAuth error: Authentication failed: Invalid authorization code", Enter retries
//   offline  -> the real CLI's "Couldn't get an answer from the sign-in service (ENOTFOUND)"
//   hang     -> nothing more (for timeouts and cancel)
//   crash    -> exit 1
//   anything else -> success; the token is tokenFor(code) (see fake-claude.ts)
import crypto from 'node:crypto';

const out = (s) => process.stdout.write(s);
const words = (text, col = 2) => {
  let s = '';
  for (const w of text.split(' ')) {
    s += `\x1b[${col}G${w}`;
    col += w.length + 1;
  }
  return s + '\r\r\n';
};
const tokenFor = (code) => `sk-ant-oat01-${crypto.createHash('sha256').update(code).digest('base64url')}AA`;

let attempt = 0;
function showLink() {
  attempt++;
  const url = `https://claude.ai/oauth/authorize?code=true&client_id=fake-client&response_type=code&state=attempt${attempt}x${crypto.randomBytes(8).toString('hex')}`;
  out(words("Browser didn't open? Use the URL below to sign in \x1b[38;5;246m(c to copy)\x1b[39m") + '\r\r\n');
  out(`\x1b]8;id=link${attempt};${url}\x07\x1b[38;5;246m${url.slice(0, 48)}…\x1b[39m\x1b]8;;\x07\r\r\n\r\r\n`);
  out(words('Paste code here if prompted'));
  out(`\x1b[2G╭${'─'.repeat(60)}╮\r\r\n\x1b[2G│\x1b[4G\x1b[7m \x1b[27m\x1b[63G│\r\r\n\x1b[2G╰${'─'.repeat(60)}╯\r\r\n\x1b[3C\x1b[2A`);
}

out('\x1b[?25l\x1b[?2004h' + words('Welcome to Claude Code v0.0.0-fake', 1) + '\r\r\n');
out(words('This will guide you through long-lived (1-year) auth token setup for your Claude account.'));
showLink();

let input = '';
let waitingForRetry = false;
process.stdin.setRawMode?.(true);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  for (const ch of chunk.replace(/\x1b\[20[01]~/g, '')) {
    if (ch !== '\r' && ch !== '\n') {
      input += ch;
      continue;
    }
    if (waitingForRetry) {
      waitingForRetry = false;
      out('\x1b[2J\x1b[H' + words('Retrying sign-in…'));
      showLink();
      continue;
    }
    const code = input.trim();
    input = '';
    answer(code);
  }
});

function answer(code) {
  out('\x1b[6A\x1b[2K\x1b[1A\x1b[2K\r\x1b[1C\x1b[38;5;231m✻\x1b[39m Finishing sign-in…\r\r\n');
  if (code === 'hang') return;
  if (code === 'crash') process.exit(1);
  if (code === 'bad' || code === 'offline') {
    const why = code === 'bad'
      ? 'Authentication failed: Invalid authorization code'
      : "Couldn't get an answer from the sign-in service (ENOTFOUND). Check your internet connection, then try again.";
    out(`\r\x1b[1C\x1b[38;5;211m✘\x1b[4GOAuth error: ${why}\x1b[39m\r\r\n\r\r\n` + words('Press \x1b[1mEnter\x1b[22m to retry'));
    waitingForRetry = true;
    return;
  }
  const token = tokenFor(code);
  const cut = 20;
  out('\r\r\n\x1b[32m✓\x1b[39m Long-lived authentication token created\r\r\n\r\r\n' + words('Your OAuth token (valid for 1 year):'));
  out(`\x1b[33m${token.slice(0, cut)}`);
  // The rest arrives in a separate write: a reader must not take half a token.
  setImmediate(() => {
    out(`${token.slice(cut)}\x1b[39m\r\r\n\r\r\n` + words("Store this token securely. You won't be able to see it again."));
    out(words('Use this token by setting: export CLAUDE_CODE_OAUTH_TOKEN=<token>'));
    process.stdout.write('\x1b[?25h', () => process.exit(0));
  });
}
