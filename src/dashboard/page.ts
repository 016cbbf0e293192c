// The dashboard's HTML shell. Everything it shows is filled in by dashboard.js from the gateway's
// own JSON (/dashboard/api/overview, /admin/keys, /admin/usage); nothing loads from anywhere else:
// the chart library (uPlot) and the script are served from the package under /dashboard/assets/.
import { esc } from '../auth/page.js';

/** Nothing may load from anywhere but this gateway; scripts and styles only with the page's nonce. */
export function dashboardCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
}

const section = (id: string, title: string, body: string, wide = false) =>
  `<section class="card${wide ? ' wide' : ''}" id="${id}"><h2>${esc(title)}</h2>${body}</section>`;

export function renderDashboard(opts: { nonce: string; csrf: string; assetVersion: string }): string {
  const { nonce, csrf, assetVersion } = opts;
  const v = `?v=${encodeURIComponent(assetVersion)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="csrf-token" content="${esc(csrf)}">
<title>Dashboard — claude-code-gateway</title>
<link rel="stylesheet" nonce="${nonce}" href="/dashboard/assets/uplot.css${v}">
<link rel="stylesheet" nonce="${nonce}" href="/dashboard/assets/dashboard.css${v}">
</head><body>
<header><h1>claude-code-gateway</h1><nav><span id="updated" class="muted">loading…</span>
<a href="/auth">Claude login</a>
<form method="post" action="/auth/session/end" class="inline"><input type="hidden" name="csrf" value="${esc(csrf)}"><button type="submit">Sign out</button></form></nav></header>
<div id="problem" class="flash error" role="alert" hidden></div>
<main>
${section('login', 'Login and plan windows', '<dl id="login-status"></dl><div id="plan"></div><div id="accounts"></div>')}
${section('load', 'Queue and processes', '<h3>Load</h3><div class="stats" id="load-stats"></div><h3>CLI processes</h3><div class="stats" id="process-stats"></div><h3>Warm pool and conversation paths (since start)</h3><div class="stats" id="pool-stats"></div>')}
${section('live', 'Live turns', '<table id="live-turns"><thead><tr><th>started</th><th>key</th><th>model</th><th>route</th><th>path</th><th class="num">running</th></tr></thead><tbody></tbody></table><p class="muted empty" id="live-empty">No turn is running.</p>', true)}
${section('hour', 'Last hour, per minute', '<div class="charts"><figure><figcaption>Tokens by model</figcaption><div class="chart" id="chart-model-tokens"></div></figure><figure><figcaption>Requests by key</figcaption><div class="chart" id="chart-key-requests"></div></figure></div><div class="stats" id="hour-stats"></div>', true)}
${section('usage', 'Usage per day (last 30 days)', '<div class="charts"><figure><figcaption>Tokens by key</figcaption><div class="chart" id="chart-usage-keys"></div></figure><figure><figcaption>Tokens by model</figcaption><div class="chart" id="chart-usage-models"></div></figure></div><table id="usage-table"><thead><tr><th>day</th><th>key</th><th>model</th><th class="num">requests</th><th class="num">errors</th><th class="num">input</th><th class="num">output</th><th class="num">cache read</th><th class="num">cache write</th><th class="num">cost $</th></tr></thead><tbody></tbody></table><p class="muted empty" id="usage-empty"></p>', true)}
${section(
  'keys',
  'App keys',
  `<div id="new-key" class="flash ok" hidden><p>The new key <strong id="new-key-name"></strong>, shown this once: copy it now.</p><p><code id="new-key-value"></code> <button type="button" id="copy-key">Copy</button> <span id="copied" class="muted" hidden>Copied.</span></p></div>
<table id="keys-table"><thead><tr><th>name</th><th>prefix</th><th>models</th><th>limits</th><th>today</th><th>this month</th><th>expires</th><th></th></tr></thead><tbody></tbody></table><p class="muted empty" id="keys-empty"></p>
<form id="create-key" class="grid-form"><h3>Create a key</h3>
<label>Name <input name="name" id="key-name" required maxlength="64"></label>
<label>Models (comma-separated, empty: all) <input name="models" id="key-models"></label>
<label>Requests / minute <input name="rpm" type="number" min="1"></label>
<label>Tokens / minute <input name="tpm" type="number" min="1"></label>
<label>Tokens / day <input name="daily_tokens" type="number" min="1"></label>
<label>Tokens / month <input name="monthly_tokens" type="number" min="1"></label>
<label>Expires <input name="expires_at" type="date"></label>
<div><button class="primary" type="submit" id="create-key-submit">Create key</button></div>
<p id="create-key-error" class="bad" hidden></p></form>`,
  true,
)}
${section('errors', 'Recent errors', '<table id="recent-errors"><thead><tr><th>when</th><th class="num">status</th><th>kind</th><th>key</th><th>model</th><th>message</th><th>request</th></tr></thead><tbody></tbody></table><p class="muted empty" id="errors-empty">No turn has failed.</p>', true)}
</main>
<script nonce="${nonce}" src="/dashboard/assets/uplot.js${v}"></script>
<script nonce="${nonce}" src="/dashboard/assets/dashboard.js${v}"></script>
</body></html>`;
}

export const DASHBOARD_CSS = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;--line:#8884;--accent:#d97757}
body{margin:0;padding:0 1rem 2rem;line-height:1.4}
header{display:flex;align-items:center;justify-content:space-between;gap:1rem;flex-wrap:wrap;border-bottom:1px solid var(--line);margin-bottom:1rem}
h1{font-size:1.25rem;margin:.8rem 0}h2{font-size:1.05rem;margin:0 0 .6rem}h3{font-size:.9rem;margin:.7rem 0 .2rem;grid-column:1/-1}
nav{display:flex;gap:1rem;align-items:center}
main{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
@media (max-width:60rem){main{grid-template-columns:1fr}}
.card{border:1px solid var(--line);border-radius:8px;padding:.9rem 1rem;min-width:0}
.card.wide{grid-column:1/-1}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.stats{display:flex;flex-wrap:wrap;gap:.5rem;margin:.4rem 0}
.stat{border:1px solid var(--line);border-radius:6px;padding:.35rem .6rem;min-width:6.5rem}
.stat .n{font-size:1.3rem;font-weight:650;font-variant-numeric:tabular-nums}.stat .l{font-size:.78rem;opacity:.75}
table{border-collapse:collapse;width:100%;font-size:.88rem;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;font-size:.8rem;opacity:.8}
td.num,th.num{text-align:right}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}
figure{margin:0;min-width:0}figcaption{font-size:.85rem;font-weight:600;margin-bottom:.2rem}
.chart{min-height:220px}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{opacity:.7}.empty{margin:.4rem 0}
.flash{padding:.6rem 1rem;border-radius:6px;margin:.6rem 0}.flash.ok{background:#1a7f3722}.flash.error{background:#cf222e22}
.bar{height:.6rem;background:var(--line);border-radius:3px;overflow:hidden;min-width:8rem}.bar>span{display:block;height:100%;background:var(--accent)}
.window{display:grid;grid-template-columns:9rem 1fr 4rem;gap:.6rem;align-items:center;margin:.3rem 0;font-size:.9rem}
.grid-form{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.5rem 1rem;margin-top:1rem;border-top:1px solid var(--line);padding-top:.6rem}
.grid-form label{display:flex;flex-direction:column;font-size:.85rem;gap:.15rem}
input{font:inherit;padding:.3rem .4rem;border:1px solid #8888;border-radius:5px;background:transparent;color:inherit}
button{font:inherit;padding:.3rem .8rem;border-radius:6px;border:1px solid #8888;cursor:pointer;background:transparent;color:inherit}
button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
button.danger{border-color:#cf222e;color:#cf222e}
form.inline{display:inline}
code{font-family:ui-monospace,monospace;font-size:.85rem;overflow-wrap:anywhere}
a{color:inherit}
`;
