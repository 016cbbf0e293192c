// The pool's section of the /auth page: each credential with its state and plan windows, a form to
// add one (verified before it is stored) and buttons to disable, enable or remove one. Escaped, no
// scripts, plain forms.
import type { AccountSnapshot } from './accounts.js';

type Esc = (s: unknown) => string;

function planText(a: AccountSnapshot): string {
  if (!a.plan) return '—';
  const windows = Object.entries(a.plan.windows).map(([w, v]) => `${w.replace(/_/g, '-')}: ${v.utilization === null ? '?' : Math.round(v.utilization * 100) + '%'}${v.resets_at ? ` (resets ${v.resets_at})` : ''}`);
  return `${a.plan.status}${windows.length ? `; ${windows.join(', ')}` : ''}`;
}

export function renderAccountsSection(accounts: AccountSnapshot[], csrf: string, esc: Esc): string {
  const hidden = `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
  const rows = accounts
    .map((a) => {
      const state = a.state === 'cooling_down' ? `cooling down until ${a.cooling_down_until}` : a.state;
      const cls = a.state === 'active' ? 'ok' : a.state === 'disabled' ? 'muted' : 'bad';
      const name = encodeURIComponent(a.name);
      const toggle = a.state === 'disabled' ? 'enable' : 'disable';
      return `<tr id="account-${esc(a.name)}"><td><strong>${esc(a.name)}</strong><br><span class="muted">${esc(a.kind)} ${esc(a.credential ?? '')} · ${esc(a.role)} · priority ${esc(a.priority)}</span></td>
<td><span class="${cls}">${esc(state)}</span>${a.reason ? `<br><span class="muted">${esc(a.reason)}</span>` : ''}</td>
<td>${esc(planText(a))}</td><td>${esc(a.turns_served)} turns · ${esc(a.live_conversations)} live<br><span class="muted">verified ${esc(a.last_verified_at ?? 'not yet')}</span></td>
<td><form method="post" action="/auth/accounts/${esc(name)}/${toggle}" class="inline">${hidden}<button type="submit">${toggle === 'enable' ? 'Enable' : 'Disable'}</button></form>
${a.origin === 'stored' ? `<form method="post" action="/auth/accounts/${esc(name)}/remove" class="inline">${hidden}<button type="submit">Remove</button></form>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<h2>Claude credentials (pool)</h2>
<p class="muted">New conversations go to the healthiest primary credential; a conversation stays on its credential unless it is limited or refused. Overflow credentials are used only when every primary is limited.</p>
<table class="card" id="accounts"><thead><tr><th>Credential</th><th>State</th><th>Plan</th><th>Use</th><th></th></tr></thead><tbody>
${rows || '<tr><td colspan="5" class="muted">No credentials yet.</td></tr>'}
</tbody></table>
<form method="post" action="/auth/accounts" class="card" id="add-account">${hidden}
<label for="account-name">Name</label><input id="account-name" name="name" type="text" autocomplete="off" required>
<label for="account-token">Token (sk-ant-oat01-…) or API key (sk-ant-api03-…)</label><input id="account-token" name="token" type="password" autocomplete="off" required>
<label for="account-priority">Priority (lower is used first)</label><input id="account-priority" name="priority" type="text" value="0">
<label for="account-role">Role</label><select id="account-role" name="role"><option value="primary">primary</option><option value="overflow">overflow (only when every primary is limited)</option></select>
<button type="submit">Verify and add</button></form>`;
}
