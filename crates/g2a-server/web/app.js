// g2a Management Center: log in, search, session page. Uses the JSON API
// under /api/v1 like any client; text from recordings is only ever set as
// textContent, never as HTML.
'use strict';

const G2A = { me: null, player: null };

function $(sel, root) { return (root || document).querySelector(sel); }

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function showMessage(text, info) {
  const m = $('#message');
  m.textContent = text || '';
  m.hidden = !text;
  m.className = info ? 'info' : '';
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// Calls the API; a 401 (the login expired) shows the login page, unless
// `probe` (route()'s own check, which shows it itself).
async function api(method, path, body, probe) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && G2A.me) headers['X-CSRF-Token'] = G2A.me.csrf;
  const r = await fetch('/api/v1' + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (r.status === 204) return null;
  const type = r.headers.get('Content-Type') || '';
  const data = type.startsWith('application/json') ? await r.json() : await r.text();
  if (!r.ok) {
    const e = new ApiError(r.status, data && data.code, (data && data.message) || ('HTTP ' + r.status));
    if (e.code === 'unauthenticated' && !probe) { G2A.me = null; location.hash = '#/login'; }
    throw e;
  }
  return data;
}

function fmtDuration(us) {
  const s = Math.max(0, Math.floor(us / 1e6));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(sec).padStart(2, '0');
}

function fmtClock(us) {
  const tenths = Math.floor(Math.max(0, us) / 1e5) % 10;
  return fmtDuration(us) + '.' + tenths;
}

function fmtUtc(us) {
  return new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function mount(id) {
  if (G2A.player) { G2A.player.close(); G2A.player = null; }
  // A fresh box per view: answers that arrive for a view already left
  // land in a detached box, not in the page.
  const box = document.createElement('div');
  box.append($('#' + id).content.cloneNode(true));
  $('#view').replaceChildren(box);
  return box;
}

function viewLogin() {
  const v = mount('t-login');
  $('#nav').hidden = true;
  $('#login-form', v).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      G2A.me = await api('POST', '/login', { name: f.name.value, password: f.password.value });
      showMessage('');
      if (!location.hash || location.hash === '#/login') location.hash = '#/search'; else route();
    } catch (e) { showMessage(e.message); }
  });
  $('input', v).focus();
}

function dayToMicros(s) { return s ? Date.parse(s + 'T00:00:00Z') * 1000 : null; }
function microsToDay(us) { return new Date(us / 1000).toISOString().slice(0, 10); }

async function viewSearch(params) {
  const v = mount('t-search');
  const f = $('#search-form', v);
  for (const k of ['id', 'portal', 'team', 'rep']) if (params.get(k)) f[k].value = params.get(k);
  if (params.get('from')) f.from.value = microsToDay(Number(params.get('from')));
  if (params.get('to')) f.to.value = microsToDay(Number(params.get('to')) - 86400e6);
  const page = Number(params.get('page') || 0);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const k of ['id', 'portal', 'team', 'rep']) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    if (f.from.value) q.set('from', dayToMicros(f.from.value));
    if (f.to.value) q.set('to', dayToMicros(f.to.value) + 86400e6);
    location.hash = '#/search?' + q.toString();
  });
  const go = (p) => { params.set('page', p); location.hash = '#/search?' + params.toString(); };
  $('#prev', v).addEventListener('click', () => go(Math.max(0, page - 1)));
  $('#next', v).addEventListener('click', () => go(page + 1));
  try {
    const q = new URLSearchParams(params); q.set('page', page);
    const r = await api('GET', '/sessions?' + q.toString());
    const body = $('#results tbody', v);
    for (const s of r.sessions) {
      const tr = el('tr');
      tr.dataset.session = s.id;
      const portal = s.subportal ? s.portal + ' / ' + s.subportal : s.portal;
      for (const t of [fmtUtc(s.start_unix_micros), s.id, portal, s.team, s.representative, s.customer,
        s.live ? 'live' : fmtDuration(s.duration_micros), s.rating === null ? '' : s.rating]) tr.append(el('td', t));
      if (s.live) tr.classList.add('live');
      const a = el('a', (s.live ? 'Watch live' : 'Open') + (s.encrypted ? ' (passphrase)' : ''));
      a.href = '#/session/' + encodeURIComponent(s.id);
      const td = el('td'); td.append(a); tr.append(td);
      body.append(tr);
    }
    if (!r.sessions.length) { const tr = el('tr'); const td = el('td', 'No sessions found.'); td.colSpan = 9; tr.append(td); body.append(tr); }
    $('#page', v).textContent = 'Page ' + (page + 1);
    $('#prev', v).disabled = page === 0;
    $('#next', v).disabled = !r.has_more;
    showMessage('');
  } catch (e) { showMessage(e.message); }
}

async function viewSession(id) {
  const v = mount('t-session');
  $('#s-title', v).textContent = 'Session ' + id;
  const enc = encodeURIComponent(id);
  let info;
  try { info = await api('GET', '/sessions/' + enc); } catch (e) { showMessage(e.message); return; }
  showMessage('');
  const open = async () => {
    let tl;
    try { tl = await api('GET', '/sessions/' + enc + '/timeline'); } catch (e) {
      if (e.code === 'passphrase_required' || e.code === 'wrong_passphrase') return askPassphrase(e.message);
      showMessage(e.message); return;
    }
    $('#unlock-form', v).hidden = true;
    $('#s-body', v).hidden = false;
    const meta = $('#s-meta', v);
    const rows = [['start (UTC)', fmtUtc(info.start_unix_micros)], ['length', fmtDuration(info.duration_micros)],
      ['screen', tl.width + '×' + tl.height], ['encrypted', info.encrypted ? 'yes' : 'no'],
      ['rating', info.rating === null ? '—' : info.rating]].concat(tl.metadata);
    for (const [k, val] of rows) { const tr = el('tr'); tr.append(el('th', k), el('td', val)); meta.append(tr); }
    if (!v.isConnected) return;
    G2A.player = new SessionPlayer(v, enc, tl);
    loadChat(v, enc); loadEvents(v, enc); loadDiagnostics(v, enc); bindExport(v, enc);
  };
  const askPassphrase = (why) => {
    const f = $('#unlock-form', v);
    f.hidden = false;
    $('#unlock-why', v).textContent = why;
    f.passphrase.focus();
  };
  $('#unlock-form', v).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await api('POST', '/sessions/' + enc + '/unlock', { passphrase: f.passphrase.value });
      f.passphrase.value = '';
      await open();
    } catch (e) { f.passphrase.value = ''; askPassphrase(e.message); }
  });
  await open();
}

async function loadChat(v, enc) {
  const list = $('#s-chat', v);
  try {
    const lines = await api('GET', '/sessions/' + enc + '/chat');
    if (!lines.length) list.append(el('li', 'No chat messages.'));
    for (const m of lines) {
      const li = el('li');
      li.dataset.t = m.ts_micros;
      li.append(el('span', fmtClock(m.ts_micros), 'when'), el('span', m.sender + ' (' + m.role + ')', 'who'), el('span', m.text));
      li.addEventListener('click', () => G2A.player && G2A.player.seek(m.ts_micros));
      list.append(li);
    }
  } catch (e) { list.append(el('li', e.message)); }
}

async function loadEvents(v, enc) {
  const list = $('#s-events', v);
  try {
    const evs = await api('GET', '/sessions/' + enc + '/events');
    if (!evs.length) list.append(el('li', 'No events.'));
    for (const e of evs) {
      const li = el('li');
      li.append(el('span', fmtClock(e.ts_micros), 'when'), el('span', e.kind, 'who'), el('span', e.detail));
      li.addEventListener('click', () => G2A.player && G2A.player.seek(e.ts_micros));
      list.append(li);
    }
  } catch (e) { list.append(el('li', e.message)); }
}

async function loadDiagnostics(v, enc) {
  const list = $('#s-diag', v);
  try {
    const docs = await api('GET', '/sessions/' + enc + '/diagnostics');
    if (!docs.length) list.append(el('li', 'No diagnostics.'));
    for (const d of docs) {
      const li = el('li');
      li.append(el('span', d.name + ' (' + d.media_type + ', ' + d.size + ' bytes, at ' + fmtDuration(d.ts_micros) + ') '));
      const view = el('button', 'View'); view.type = 'button';
      view.addEventListener('click', async () => {
        const pre = $('#s-doc', v);
        try {
          const r = await fetch('/api/v1/sessions/' + enc + '/diagnostics/' + d.index, { credentials: 'same-origin' });
          let text = await r.text();
          if (r.ok && d.media_type.startsWith('application/json')) {
            try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* shown as it is */ }
          }
          pre.textContent = text; pre.hidden = false;
        } catch (e) { showMessage(e.message); }
      });
      const dl = el('a', 'Download');
      dl.href = '/api/v1/sessions/' + enc + '/diagnostics/' + d.index + '?download=true';
      li.append(view, ' ', dl);
      list.append(li);
    }
  } catch (e) { list.append(el('li', e.message)); }
}

function bindExport(v, enc) {
  const f = $('#export-form', v);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const req = { format: f.format.value };
    if (f.size.value) { const [w, h] = f.size.value.split('x').map(Number); req.width = w; req.height = h; }
    if (f.from.value !== '') req.from = Math.round(Number(f.from.value) * 1e6);
    if (f.to.value !== '') req.to = Math.round(Number(f.to.value) * 1e6);
    let job;
    try { job = await api('POST', '/sessions/' + enc + '/exports', req); } catch (e) { showMessage(e.message); return; }
    const row = el('div', null, 'job');
    row.dataset.job = job.id;
    const label = el('span', job.format.toUpperCase() + ' export: queued');
    const bar = el('progress'); bar.max = 1; bar.value = 0;
    row.append(label, ' ', bar);
    $('#export-jobs', v).append(row);
    const poll = async () => {
      if (!row.isConnected) return;
      let s;
      try { s = await api('GET', '/exports/' + job.id); } catch (e) { label.textContent = e.message; return; }
      bar.value = s.progress;
      label.textContent = s.format.toUpperCase() + ' export: ' + s.state + (s.state === 'running' ? ' ' + Math.round(100 * s.progress) + '%' : '');
      if (s.state === 'done') {
        const a = el('a', 'Download (' + s.bytes + ' bytes)');
        a.href = '/api/v1/exports/' + job.id + '/file';
        a.className = 'download';
        row.append(' ', a);
      } else if (s.state === 'failed') {
        label.textContent += ': ' + s.message;
      } else if (s.state !== 'cancelled') {
        setTimeout(poll, 400);
      }
    };
    poll();
  });
}

function row(cells) { const tr = el('tr'); for (const c of cells) tr.append(el('td', c)); return tr; }

async function viewOrg() {
  const v = mount('t-org');
  let o;
  try { o = await api('GET', '/org'); } catch (e) { showMessage(e.message); return; }
  showMessage('');
  $('#o-retention', v).textContent = 'Sessions are kept for ' + o.retention_days + ' days.';
  for (const p of o.portals) $('#o-portals tbody', v).append(row([p.name, p.parent || '', p.teams.join(', '), p.passphrase]));
  for (const t of o.teams) $('#o-teams tbody', v).append(row([t.name, t.parent || '', t.portals.join(', '), t.managers.join(', '), t.representatives.join(', ')]));
  for (const u of o.users) {
    const teams = u.role === 'team_manager' ? u.managed_teams.join(', ') : (u.team || '');
    $('#o-users tbody', v).append(row([u.name + (u.deactivated ? ' (deactivated)' : ''), u.role.replace('_', ' '), teams,
      u.role === 'representative' ? (u.mc_access ? 'yes' : 'no') : 'yes', u.has_password ? 'set' : 'none']));
  }
  $('.manage', v).hidden = G2A.me.role === 'representative';
  if (G2A.me.role === 'company_manager') await showRecorders(v);
  for (const f of v.querySelectorAll('form[data-action]')) {
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { action: f.dataset.action };
      for (const inp of f.querySelectorAll('input, select')) {
        if (inp.type === 'checkbox') body[inp.name] = inp.checked;
        else if (inp.dataset.list) body[inp.name] = inp.value.split(',').map((x) => x.trim()).filter(Boolean);
        else if (inp.value !== '') body[inp.name] = inp.value;
      }
      try {
        await api('POST', '/org/actions', body);
        showMessage('Done: ' + f.querySelector('strong').textContent.toLowerCase() + '.', true);
        const msg = $('#message').textContent;
        await viewOrg();
        showMessage(msg, true);
      } catch (e) { showMessage(e.message); }
      for (const inp of f.querySelectorAll('input[type=password]')) inp.value = '';
    });
  }
}

async function showRecorders(v) {
  const sec = $('#o-recorders', v);
  let list;
  try { list = await api('GET', '/org/recorders'); } catch (e) { showMessage(e.message); return; }
  sec.hidden = false;
  const tbody = $('tbody', sec);
  for (const r of list) {
    const tr = row([r.name, r.portal, fmtUtc(r.created_unix_micros), r.created_by,
      r.last_used_unix_micros ? fmtUtc(r.last_used_unix_micros) : 'never',
      r.revoked_unix_micros ? 'revoked ' + fmtUtc(r.revoked_unix_micros) : 'active']);
    const td = el('td');
    if (!r.revoked_unix_micros) {
      const b = el('button', 'Revoke');
      b.addEventListener('click', async () => {
        if (!confirm('Revoke the token of recorder ' + r.name + '? Its uploads stop being accepted.')) return;
        try {
          await api('DELETE', '/org/recorders/' + encodeURIComponent(r.name));
          await viewOrg();
          showMessage('Done: revoked the token of ' + r.name + '.', true);
        } catch (e) { showMessage(e.message); }
      });
      td.append(b);
    }
    tr.append(td);
    tbody.append(tr);
  }
  $('#recorder-form', v).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const issued = await api('POST', '/org/recorders', { name: f.elements['name'].value, portal: f.elements['portal'].value });
      await viewOrg();
      const box = $('#recorder-token');
      $('strong', box).textContent = issued.name;
      $('input', box).value = issued.token;
      box.hidden = false;
      showMessage('Done: issued a token for ' + issued.name + '.', true);
    } catch (e) { showMessage(e.message); }
  });
}

async function viewAudit(params) {
  const v = mount('t-audit');
  const f = $('#audit-form', v);
  for (const k of ['user', 'session', 'limit']) if (params.get(k)) f[k].value = params.get(k);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const k of ['user', 'session', 'limit']) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    location.hash = '#/audit?' + q.toString();
  });
  try {
    const q = new URLSearchParams(params);
    if (!q.get('limit')) q.set('limit', '100');
    const entries = await api('GET', '/audit?' + q.toString());
    for (const e of entries) $('#audit tbody', v).append(row([fmtUtc(e.at_unix_micros), e.actor, e.action, e.session_id || '', e.outcome, e.detail]));
    showMessage('');
  } catch (e) { showMessage(e.message); }
}

async function route() {
  const h = location.hash || '#/search';
  if (!G2A.me) {
    // Not a redirect to #/login: the login form shows here, once, and a
    // link opened before logging in is followed after it.
    try { G2A.me = await api('GET', '/me', undefined, true); } catch (_) { G2A.me = null; }
  }
  if (!G2A.me) { viewLogin(); return; }
  $('#nav').hidden = false;
  $('#who').textContent = G2A.me.name + ' (' + G2A.me.role.replace('_', ' ') + ')';
  $('#nav-audit').hidden = G2A.me.role !== 'company_manager';
  if (h.startsWith('#/session/')) return viewSession(decodeURIComponent(h.slice('#/session/'.length)));
  const q = h.indexOf('?');
  if (h.startsWith('#/org')) return viewOrg();
  if (h.startsWith('#/audit')) return viewAudit(new URLSearchParams(q >= 0 ? h.slice(q + 1) : ''));
  return viewSearch(new URLSearchParams(q >= 0 ? h.slice(q + 1) : ''));
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  $('#logout').addEventListener('click', async () => {
    try { await api('POST', '/logout'); } catch (_) { /* logged out anyway */ }
    G2A.me = null;
    if (location.hash === '#/login') route(); else location.hash = '#/login';
  });
  route();
});
