// The /auth page as server-rendered HTML: no external assets (no CDN, no fonts, no images), plain
// forms that work without JavaScript, and one inline script (under a per-response CSP nonce) for the
// copy button. Every value is escaped.
import { renderAccountsSection } from '../accounts/page.js';
import type { LoginView } from './login-manager.js';
import type { AuthStatus } from './status.js';
import type { Flash } from './web-session.js';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const CSS = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
body{max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.8rem}
.card{border:1px solid #8885;border-radius:8px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{opacity:.7}
.flash{padding:.7rem 1rem;border-radius:6px;margin:1rem 0}.flash.ok{background:#1a7f3722}.flash.error{background:#cf222e22;color:inherit}
form.inline{display:inline}input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.45rem;font:inherit;margin:.3rem 0}
button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #8888;cursor:pointer}
button.primary{background:#d97757;color:#fff;border-color:#d97757}
.url{font-family:ui-monospace,monospace;font-size:.85rem;overflow-wrap:anywhere}
`;

function layout(title: string, body: string, nonce: string, refresh = false): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${refresh ? '<meta http-equiv="refresh" content="2">' : ''}
<title>${esc(title)}</title><style nonce="${nonce}">${CSS}</style></head>
<body>${body}</body></html>`;
}

/** The Content-Security-Policy that goes with a page: nothing may load from anywhere. */
export function pageCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
}

/** Pages the key form may return to once the key is right (never a client-chosen address). */
export const SIGN_IN_TARGETS = ['/auth', '/dashboard'] as const;
export type SignInTarget = (typeof SIGN_IN_TARGETS)[number];

export function renderKeyForm(nonce: string, error?: string, opts: { next?: SignInTarget } = {}): string {
  const next = opts.next ?? '/auth';
  return layout(
    'Sign in — claude-code-gateway',
    `<h1>claude-code-gateway</h1>
<p>Enter the gateway's API key to ${next === '/dashboard' ? 'open its dashboard' : 'manage its Claude login'}.</p>
${error ? `<div class="flash error" role="alert">${esc(error)}</div>` : ''}
<form method="post" action="/auth/session" class="card">${next === '/auth' ? '' : `<input type="hidden" name="next" value="${esc(next)}">`}
<label for="key">Gateway API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<button class="primary" type="submit">Continue</button></form>`,
    nonce,
  );
}

function yesNo(v: boolean | null, yes: string, no: string, unknown: string): string {
  if (v === true) return `<span class="ok">${esc(yes)}</span>`;
  if (v === false) return `<span class="bad">${esc(no)}</span>`;
  return `<span class="muted">${esc(unknown)}</span>`;
}

function statusCard(s: AuthStatus): string {
  const row = (k: string, v: string) => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  return `<section class="card" id="status"><dl>
${row('Authenticated', yesNo(s.authenticated, 'yes', 'no', 'no'))}
${row('Method', esc(s.method ?? '—'))}
${row('Source', esc(s.source ?? '—'))}
${s.credential ? row('Credential', `<code>${esc(s.credential)}</code>`) : ''}
${row('Verified', yesNo(s.verified, `yes${s.verified_at ? `, ${s.verified_at}` : ''}`, 'no: refused by the Anthropic API', 'not yet'))}
${row('Expires', esc(s.expires_at ?? 'unknown'))}
${row('Subscription', esc(s.subscription ?? 'unknown'))}
${row('Claude Code CLI', esc(s.cli_version ?? 'unknown'))}
${s.last_error ? row('Last error', `<span class="bad">${esc(s.last_error.message)}</span> <span class="muted">(${esc(s.last_error.at)})</span>`) : ''}
</dl>${
    s.sources.length > 1
      ? `<p class="muted">Other credentials present (lower precedence, not used): ${s.sources.slice(1).map((x) => esc(x.source)).join('; ')}</p>`
      : ''
  }</section>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

function loginSection(login: LoginView | null, csrf: string): string {
  if (login && login.state === 'awaiting_code' && login.url) {
    return `<section class="card" id="login">
${login.error ? `<div class="flash error" role="alert">${esc(login.error.message)}</div>` : ''}
<p><strong>1.</strong> Open this link, sign in with your Claude account and approve:</p>
<p><a id="signin-url" class="url" href="${esc(login.url)}" target="_blank" rel="noopener noreferrer">${esc(login.url)}</a></p>
<p><button type="button" id="copy-url" data-url="${esc(login.url)}">Copy link</button> <span id="copied" class="muted" hidden>Copied.</span></p>
<p><strong>2.</strong> Paste the code the page shows you:</p>
<form method="post" action="/auth/login/code">${hidden(csrf)}
<input id="code" name="code" type="text" autocomplete="off" spellcheck="false" required>
<button class="primary" type="submit">Submit code</button></form>
<form method="post" action="/auth/login/cancel" class="inline">${hidden(csrf)}<button type="submit">Cancel</button></form>
</section>`;
  }
  if (login && login.busy) {
    const what = login.state === 'succeeded' ? 'Token stored; checking it with a real request…' : login.state === 'exchanging' ? 'Finishing sign-in…' : 'Starting the Claude CLI…';
    return `<section class="card" id="login"><p>${esc(what)}</p>
<form method="post" action="/auth/login/cancel" class="inline">${hidden(csrf)}<button type="submit">Cancel</button></form></section>`;
  }
  let outcome = '';
  if (login?.state === 'failed' && login.error) outcome = `<div class="flash error" role="alert" id="login-error">${esc(login.error.message)}</div>`;
  if (login?.state === 'succeeded' && login.verification) {
    outcome = `<div class="flash ${login.verification.ok ? 'ok' : 'error'}" id="login-result">Logged in with Claude. ${esc(login.verification.message)}</div>`;
  }
  return `<section class="card" id="login">${outcome}
<p>Sign in with a Claude subscription: the gateway runs <code>claude setup-token</code> and stores the long-lived token it prints.</p>
<form method="post" action="/auth/login/start">${hidden(csrf)}<button class="primary" type="submit" id="start-login">Log in with Claude</button></form>
</section>`;
}

const COPY_JS = `
const b=document.getElementById('copy-url');
if(b){b.addEventListener('click',async()=>{const u=b.dataset.url;try{await navigator.clipboard.writeText(u)}catch{const t=document.createElement('textarea');t.value=u;document.body.appendChild(t);t.select();document.execCommand('copy');t.remove()}document.getElementById('copied').hidden=false})}
`;

export function renderAuthPage(opts: { status: AuthStatus; login: LoginView | null; csrf: string; flash?: Flash; nonce: string; accounts?: boolean }): string {
  const { status, login, csrf, flash, nonce } = opts;
  const refresh = !!login?.busy && login.state !== 'awaiting_code';
  return layout(
    'Claude login — claude-code-gateway',
    `<h1>Claude login</h1>
${flash ? `<div class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}" id="flash">${esc(flash.message)}</div>` : ''}
${statusCard(status)}
<form method="post" action="/auth/verify" class="inline">${hidden(csrf)}<button type="submit" id="verify">Verify now</button></form>
<h2>Log in with Claude</h2>
${loginSection(login, csrf)}
<h2>Paste an existing token or API key</h2>
<form method="post" action="/auth/token" class="card">${hidden(csrf)}
<label for="token">A token from <code>claude setup-token</code> (sk-ant-oat01-…) or an Anthropic API key (sk-ant-api03-…)</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Save and use</button></form>
${opts.accounts && status.accounts ? renderAccountsSection(status.accounts, csrf, esc) : ''}
<h2>Log out</h2>
<p>Removes the credential stored by this gateway. Credentials from environment variables or a mounted Claude Code login stay until removed there.</p>
<form method="post" action="/auth/logout" class="inline">${hidden(csrf)}<button type="submit" id="logout">Log out</button></form>
<form method="post" action="/auth/session/end" class="inline">${hidden(csrf)}<button type="submit">Leave this page</button></form>
<script nonce="${nonce}">${COPY_JS}</script>`,
    nonce,
    refresh,
  );
}
