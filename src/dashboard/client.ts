// The dashboard's browser script, served as /dashboard/assets/dashboard.js. It is kept here as text
// (the build compiles only TypeScript for Node) and must not contain a backquote or a dollar-brace.
// It reads the gateway's own JSON, builds the DOM with textContent only (no HTML from data), draws
// the charts with uPlot, and manages app keys through the admin API with the session's CSRF token.
export const DASHBOARD_JS = String.raw`'use strict';
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var PALETTE = ['#d97757', '#2f81f7', '#1a7f37', '#a371f7', '#bf8700', '#cf222e', '#0a7ea4', '#8b949e'];
  var charts = {};

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function $(id) { return document.getElementById(id); }
  function num(n) { return n == null ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 4 }); }
  function usd(n) { return n == null ? '—' : '$' + Number(n).toFixed(4); }
  function bytes(n) { return (n / 1048576).toFixed(0) + ' MB'; }
  function ago(ms) { var s = Math.round(ms / 1000); return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; }
  function time(iso) { return iso ? new Date(iso).toLocaleString() : '—'; }
  function stat(label, value, id) { return el('div', { class: 'stat', 'data-stat': id || label }, [el('div', { class: 'n', text: String(value) }), el('div', { class: 'l', text: label })]); }
  function fill(id, nodes) { var p = $(id); p.replaceChildren.apply(p, nodes); }
  function rows(tableId, emptyId, list, row, emptyText) {
    var body = $(tableId).tBodies[0];
    body.replaceChildren.apply(body, list.map(row));
    $(tableId).hidden = !list.length;
    if (emptyId) { $(emptyId).hidden = !!list.length; if (emptyText) $(emptyId).textContent = emptyText; }
  }
  function td(v, cls) { return el('td', { text: v == null ? '—' : String(v), class: cls || '' }); }
  function problem(msg) { var p = $('problem'); p.hidden = !msg; p.textContent = msg || ''; }

  async function api(method, url, body) {
    var init = { method: method, headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    var r = await fetch(url, init);
    var data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      var err = new Error((data && data.error && data.error.message) || ('HTTP ' + r.status));
      err.status = r.status;
      throw err;
    }
    return data;
  }

  // ---- charts (uPlot) -------------------------------------------------------------------------
  // Counts (requests, tokens) get whole-number ticks.
  var WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];
  function drawChart(id, xs, series) {
    var host = $(id);
    var names = Object.keys(series);
    var width = Math.max(280, host.clientWidth || 400);
    var sig = names.join('\u0000');
    var data = [xs].concat(names.map(function (n) { return series[n]; }));
    if (!names.length) {
      if (charts[id]) { charts[id].chart.destroy(); delete charts[id]; }
      host.replaceChildren(el('p', { class: 'muted', text: 'No data yet.' }));
      return;
    }
    var c = charts[id];
    if (c && c.sig === sig) { c.chart.setData(data); if (c.width !== width) { c.chart.setSize({ width: width, height: 220 }); c.width = width; } return; }
    if (c) c.chart.destroy();
    host.replaceChildren();
    var chart = new uPlot({
      width: width, height: 220,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      legend: { live: false },
      axes: [{ stroke: '#888', grid: { stroke: '#8882' } }, { stroke: '#888', grid: { stroke: '#8882' }, size: 60, incrs: WHOLE }],
      series: [{}].concat(names.map(function (n, i) {
        var color = PALETTE[i % PALETTE.length];
        return { label: n, stroke: color, fill: color + '22', width: 2, points: { show: xs.length <= 31 } };
      })),
    }, data, host);
    charts[id] = { chart: chart, sig: sig, width: width };
  }

  // ---- overview -------------------------------------------------------------------------------
  function renderLogin(a) {
    var dl = $('login-status');
    if (!a) { dl.replaceChildren(el('dt', { text: 'Login' }), el('dd', { text: 'not managed by this gateway' })); return; }
    function row(k, v, cls) { return [el('dt', { text: k }), el('dd', { text: v, class: cls || '' })]; }
    var items = [].concat(
      row('Authenticated', a.authenticated ? 'yes' : 'no', a.authenticated ? 'ok' : 'bad'),
      row('Method', a.method || '—'),
      row('Source', a.source || '—'),
      row('Verified', a.verified === true ? 'yes, ' + time(a.verified_at) : a.verified === false ? 'no: refused by the Anthropic API' : 'not yet', a.verified === true ? 'ok' : a.verified === false ? 'bad' : 'muted'),
      row('Subscription', a.subscription || 'unknown'),
      row('Expires', a.expires_at ? time(a.expires_at) : 'unknown'),
      row('Claude Code CLI', a.cli_version || 'unknown'),
      a.last_error ? row('Last error', a.last_error.message + ' (' + time(a.last_error.at) + ')', 'bad') : []
    );
    dl.replaceChildren.apply(dl, items);
    renderPlan($('plan'), a.plan, 'Plan windows');
    var acc = $('accounts');
    var list = Array.isArray(a.accounts) ? a.accounts : [];
    acc.replaceChildren.apply(acc, list.length > 1 ? [el('h3', { text: 'Credentials' })].concat(list.map(function (x) {
      var box = el('div', { class: 'account' }, [el('p', {}, [el('strong', { text: x.name }), ' ' + (x.kind || '') + ' · ' + (x.state || '') + (x.reason ? ' · ' + x.reason : '') + ' · turns ' + num(x.turns_served)])]);
      renderPlan(box, x.plan, null, true);
      return box;
    })) : []);
  }

  function renderPlan(host, plan, title, append) {
    var nodes = [];
    if (title) nodes.push(el('h3', { text: title }));
    if (!plan) {
      if (title) nodes.push(el('p', { class: 'muted', text: 'No plan windows reported (API-key logins have none; a subscription login reports them with its first answer).' }));
    } else {
      nodes.push(el('p', { class: plan.status === 'rejected' ? 'bad' : plan.status === 'allowed_warning' ? 'muted' : 'ok',
        text: 'Status: ' + plan.status + (plan.window ? ' (' + plan.window + ')' : '') + (plan.using_overage ? ' · using overage' : '') + (plan.resets_at ? ' · resets ' + time(plan.resets_at) : '') }));
      var windows = plan.windows || {};
      Object.keys(windows).forEach(function (name) {
        var w = windows[name];
        var u = typeof w.utilization === 'number' ? (w.utilization <= 1 ? w.utilization * 100 : w.utilization) : null;
        var bar = el('div', { class: 'bar' }, [el('span')]);
        bar.firstChild.style.width = (u == null ? 0 : Math.min(100, u)) + '%';
        nodes.push(el('div', { class: 'window', 'data-window': name }, [el('span', { text: name.replace(/_/g, ' ') }), bar, el('span', { text: u == null ? '—' : u.toFixed(0) + ' %' })]));
        if (w.resets_at) nodes.push(el('p', { class: 'muted', text: name.replace(/_/g, ' ') + ' resets ' + time(w.resets_at) }));
      });
    }
    if (append) nodes.forEach(function (n) { host.appendChild(n); });
    else host.replaceChildren.apply(host, nodes);
  }

  function renderLoad(o) {
    var s = o.stats;
    fill('load-stats', [
      stat('turns running', s.turns_running + ' / ' + s.max_concurrency, 'turns_running'),
      stat('queued', s.requests_queued, 'requests_queued'),
      stat('parked for tools', s.turns_parked_for_tools, 'turns_parked'),
      stat('live conversations', s.conversations_live, 'conversations_live'),
      stat('idle memory', bytes(s.idle_memory_bytes) + ' / ' + bytes(s.idle_memory_budget_bytes), 'idle_memory'),
    ]);
    fill('process-stats', Object.keys(o.processes).map(function (k) { return stat(k, o.processes[k], 'proc_' + k); }));
    var paths = s.conversation_paths || {};
    fill('pool-stats', [
      stat('warm hits', s.warm_pool_hits, 'warm_pool_hits'),
      stat('warm misses', s.warm_pool_misses, 'warm_pool_misses'),
      stat('rewound one-shots', s.conversations_rewound, 'conversations_rewound'),
      stat('CLI started', s.cli_processes_started, 'cli_processes_started'),
    ].concat(Object.keys(paths).map(function (p) { return stat('path ' + p, paths[p], 'path_' + p); })));
  }

  function renderLive(o) {
    rows('live-turns', 'live-empty', o.live_turns, function (t) {
      return el('tr', {}, [td(time(new Date(t.started_at).toISOString())), td(t.key), td(t.model), td(t.route), td(t.path + (t.tool_results ? ' (tool results)' : '')), td(ago(t.running_ms), 'num')]);
    });
  }

  function sumFields(p, fields) { return p[fields[0]].map(function (_, i) { return fields.reduce(function (a, f) { return a + p[f][i]; }, 0); }); }

  function renderHour(o) {
    var t = o.timeline;
    var byModel = {}, byKey = {};
    var totals = { requests: 0, errors: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 };
    Object.keys(t.model).forEach(function (m) {
      var p = t.model[m];
      byModel[m] = sumFields(p, ['input', 'output', 'cacheRead', 'cacheWrite']);
      Object.keys(totals).forEach(function (f) { totals[f] += p[f].reduce(function (a, b) { return a + b; }, 0); });
    });
    Object.keys(t.key).forEach(function (k) { byKey[k] = t.key[k].requests; });
    drawChart('chart-model-tokens', t.minutes, byModel);
    drawChart('chart-key-requests', t.minutes, byKey);
    fill('hour-stats', [
      stat('turns', num(totals.requests), 'hour_turns'), stat('failed', num(totals.errors), 'hour_errors'),
      stat('input tokens', num(totals.input), 'hour_input'), stat('output tokens', num(totals.output), 'hour_output'),
      stat('cache read', num(totals.cacheRead), 'hour_cache_read'), stat('cache write', num(totals.cacheWrite), 'hour_cache_write'),
      stat('cost', usd(totals.costUsd), 'hour_cost'),
    ]);
  }

  function renderErrors(o) {
    rows('recent-errors', 'errors-empty', o.recent_errors, function (e) {
      return el('tr', {}, [td(time(e.at)), td(e.status, 'num'), td(e.kind + (e.code ? ' / ' + e.code : '')), td(e.key), td(e.model), td(e.message), td(e.request_id)]);
    });
  }

  async function refreshOverview() {
    var o = await api('GET', '/dashboard/api/overview');
    renderLogin(o.auth);
    renderLoad(o);
    renderLive(o);
    renderHour(o);
    renderErrors(o);
    $('updated').textContent = 'updated ' + new Date(o.now).toLocaleTimeString();
  }

  // ---- usage (admin API) ----------------------------------------------------------------------
  function day(d) { return d.toISOString().slice(0, 10); }
  async function refreshUsage() {
    var to = new Date();
    var from = new Date(to.getTime() - 29 * 86400000);
    var r;
    try { r = await api('GET', '/admin/usage?from=' + day(from) + '&to=' + day(to)); }
    catch (e) {
      rows('usage-table', 'usage-empty', [], null, e.status === 404 ? 'Usage history needs the admin API, which this gateway does not serve.' : 'Could not read usage: ' + e.message);
      drawChart('chart-usage-keys', [], {}); drawChart('chart-usage-models', [], {});
      return;
    }
    var list = (r && r.data) || [];
    // Every day of the range, so a day without use is a zero and the axis spans the 30 days.
    var days = [];
    for (var t = Date.parse(day(from) + 'T00:00:00Z'); t <= Date.parse(day(to) + 'T00:00:00Z'); t += 86400000) days.push(day(new Date(t)));
    var xs = days.map(function (d) { return Date.parse(d + 'T00:00:00Z') / 1000; });
    function group(field) {
      var out = {};
      list.forEach(function (u) {
        var name = u[field] || '—';
        var s = out[name] || (out[name] = days.map(function () { return 0; }));
        var i = days.indexOf(u.day);
        if (i >= 0) s[i] += u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens;
      });
      return out;
    }
    drawChart('chart-usage-keys', xs, group('key_name'));
    drawChart('chart-usage-models', xs, group('model'));
    var sorted = list.slice().sort(function (a, b) { return a.day < b.day ? 1 : a.day > b.day ? -1 : 0; });
    rows('usage-table', 'usage-empty', sorted, function (u) {
      return el('tr', {}, [td(u.day), td(u.key_name), td(u.model), td(num(u.requests), 'num'), td(num(u.errors), 'num'), td(num(u.input_tokens), 'num'), td(num(u.output_tokens), 'num'), td(num(u.cache_read_tokens), 'num'), td(num(u.cache_write_tokens), 'num'), td(Number(u.cost_usd || 0).toFixed(4), 'num')]);
    }, 'No usage recorded in the last 30 days.');
  }

  // ---- keys (admin API) -----------------------------------------------------------------------
  function limits(k) {
    var parts = [];
    if (k.rpm) parts.push(num(k.rpm) + ' req/min');
    if (k.tpm) parts.push(num(k.tpm) + ' tok/min');
    if (k.daily_tokens) parts.push(num(k.daily_tokens) + ' tok/day');
    if (k.monthly_tokens) parts.push(num(k.monthly_tokens) + ' tok/month');
    return parts.join(', ') || 'none';
  }
  function usageText(u) {
    if (!u) return '—';
    return num(u.requests) + ' req · ' + num(u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens) + ' tok · ' + usd(u.cost_usd);
  }
  async function refreshKeys() {
    var r;
    try { r = await api('GET', '/admin/keys'); }
    catch (e) {
      rows('keys-table', 'keys-empty', [], null, e.status === 404 ? 'Key management needs the admin API, which this gateway does not serve.' : 'Could not read keys: ' + e.message);
      return;
    }
    var list = ((r && r.data) || []).filter(function (k) { return !k.revoked_at; });
    rows('keys-table', 'keys-empty', list, function (k) {
      var revoke = el('button', { type: 'button', class: 'danger', 'data-revoke': k.id, text: 'Revoke' });
      revoke.addEventListener('click', function () {
        if (revoke.dataset.confirm !== '1') { revoke.dataset.confirm = '1'; revoke.textContent = 'Confirm revoke'; return; }
        revoke.disabled = true;
        api('DELETE', '/admin/keys/' + encodeURIComponent(k.id)).then(refreshKeys, function (e) { problem('Could not revoke ' + k.name + ': ' + e.message); revoke.disabled = false; });
      });
      return el('tr', { 'data-key': k.name }, [td(k.name), el('td', {}, [el('code', { text: k.prefix + '…' })]), td(k.models && k.models.length ? k.models.join(', ') : 'all'), td(limits(k)), td(usageText(k.usage && k.usage.today)), td(usageText(k.usage && k.usage.month)), td(k.expires_at ? time(k.expires_at) : 'never'), el('td', {}, [revoke])]);
    }, 'No app keys yet: clients use the gateway key.');
  }

  $('create-key').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target;
    function field(n) { return f.elements.namedItem(n); }
    var body = { name: field('name').value.trim() };
    var models = field('models').value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    if (models.length) body.models = models;
    ['rpm', 'tpm', 'daily_tokens', 'monthly_tokens'].forEach(function (n) { if (field(n).value) body[n] = Number(field(n).value); });
    if (field('expires_at').value) body.expires_at = new Date(field('expires_at').value + 'T23:59:59Z').toISOString();
    var errBox = $('create-key-error');
    errBox.hidden = true;
    api('POST', '/admin/keys', body).then(function (k) {
      $('new-key-name').textContent = k.name;
      $('new-key-value').textContent = k.key;
      $('new-key').hidden = false;
      $('copied').hidden = true;
      f.reset();
      return refreshKeys();
    }, function (e) { errBox.textContent = e.message; errBox.hidden = false; });
  });
  $('copy-key').addEventListener('click', function () {
    navigator.clipboard.writeText($('new-key-value').textContent).then(function () { $('copied').hidden = false; }, function () {});
  });

  // ---- refresh loop ---------------------------------------------------------------------------
  var tick = 0;
  async function refresh() {
    try {
      await refreshOverview();
      if (tick % 3 === 0) await Promise.all([refreshKeys(), refreshUsage()]);
      problem(null);
    } catch (e) {
      problem(e.status === 401 ? 'Signed out: reload the page and enter the gateway key.' : 'Could not refresh: ' + e.message);
    }
    tick++;
    document.body.dataset.loaded = String(tick);
  }
  window.addEventListener('resize', function () { tick = 0; refresh(); });
  refresh();
  setInterval(refresh, 5000);
})();
`;
