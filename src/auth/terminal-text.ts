// Turns what a TUI writes to a terminal into plain text we can search. The Claude CLI (Ink) places
// words with cursor moves instead of spaces, redraws lines in place, and prints links as OSC-8
// hyperlinks, so "strip the colour codes" is not enough: cursor moves become spaces or line breaks,
// and hyperlink targets are collected separately (the visible text may be shortened or wrapped).

const ESC = '\x1b';
// OSC: ESC ] ... terminated by BEL or ST (ESC \).
const OSC = /\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)/g;
// CSI: ESC [ params intermediates final.
const CSI = /\x1b\[([0-?]*)([ -/]*)([@-~])/g;

export interface TerminalText {
  /** Visible text, one space for a horizontal cursor move, a line break for a vertical one. */
  text: string;
  /** Targets of OSC-8 hyperlinks, in order of appearance. */
  links: string[];
}

export function normalizeTerminal(raw: string): TerminalText {
  const links: string[] = [];
  let s = raw.replace(OSC, (_m, body: string) => {
    // OSC 8 ; params ; URI  (an empty URI closes the link)
    if (body.startsWith('8;')) {
      const uri = body.slice(body.indexOf(';', 2) + 1);
      if (uri) links.push(uri);
    }
    return '';
  });
  // A sequence cut off at the end of the buffer is dropped; the next call sees it whole.
  const cut = s.lastIndexOf(ESC);
  if (cut >= 0 && !/^\x1b(\[[0-?]*[ -/]*[@-~]|[^[\]])/.test(s.slice(cut))) s = s.slice(0, cut);
  s = s.replace(CSI, (_m, _params: string, _mid: string, final: string) => {
    if (final === 'G' || final === 'C' || final === '`') return ' '; // column moves
    if ('ABEFHfd'.includes(final)) return '\n'; // row moves and absolute positioning
    if (final === 'K' || final === 'J') return ' ';
    return ''; // colours, modes, queries
  });
  s = s
    .replace(/\x1b[()][0-9A-Za-z]/g, '') // character set selection
    .replace(/\x1b[^[\]]/g, '') // ESC 7, ESC 8, ESC =, ...
    .replace(/\r\n?/g, '\n')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n */g, '\n');
  return { text: s, links };
}

/** The sign-in URL: a hyperlink target if there is one (never shortened), else the visible text. */
export function findAuthorizeUrl(t: TerminalText): string | undefined {
  const isAuth = (u: string) => /^https:\/\/\S+/.test(u) && /authorize/i.test(u);
  const fromLinks = t.links.filter(isAuth);
  if (fromLinks.length) return fromLinks[fromLinks.length - 1];
  const visible = [...t.text.matchAll(/https:\/\/[^\s"'<>]+/g)].map((m) => m[0]).filter(isAuth);
  return visible.length ? visible[visible.length - 1] : undefined;
}

/** A long-lived OAuth token, once it is followed by anything (so a token split across chunks is not cut). */
export function findOAuthToken(text: string): string | undefined {
  const m = /(sk-ant-oat01-[A-Za-z0-9_-]{20,})(?=[^A-Za-z0-9_-])/.exec(text);
  return m?.[1];
}

/** "(valid for 1 year)" -> the expiry as an ISO date, where the CLI says it. */
export function findValidity(text: string, now = Date.now()): string | undefined {
  const m = /valid for (\d+) (year|month|day|hour)s?/i.exec(text);
  if (!m) return undefined;
  const unit = { year: 365 * 86400, month: 30 * 86400, day: 86400, hour: 3600 }[m[2].toLowerCase() as 'year'];
  return new Date(now + Number(m[1]) * unit * 1000).toISOString();
}
