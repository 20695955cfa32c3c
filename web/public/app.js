// The dashboard: hash routes, each page reading the API. No build step; ES modules.
//   #/                    rollouts (+ start form for ops)
//   #/r/ID                overview: counts, charts, failed notifications, cancel (ops)
//   #/r/ID/tree           hierarchy tree, one page of children at a time; overdue filter
//   #/r/ID/u/CODE         a unit: details, steps, report forms, timeline
//   #/inbox               a standing committee's escalation inbox (ops/auditor pick the committee)
import { ApiError, clearToken, enc, get, getToken, post, qs, setToken, takeTokenFromHash } from './api.js';
import { barChart, lineChart, stackedBars } from './charts.js';
import { DIRECT_FIELDS, EXTEND_FIELDS, REPORT_FIELDS, buildForm, issuesByField, readForm, showErrors } from './forms.js';
import { fmtDate, fmtDateTime, fmtDuration, fmtLocalDate, fmtPercent, CODES, getLang, kindLabel, levelLabel, setLang, t } from './i18n.js';

const PAGE_SIZE = 100;
const REFRESH_MS = 5000;

// ---------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else if (k === 'html') e.innerHTML = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

const link = (href, text, attrs = {}) => h('a', { href, ...attrs }, text);
const main = () => document.getElementById('app');
/** Replace the page's content (arrays flattened; null, undefined and false left out, as in h()). */
const show = (...children) => main().replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));

/** The message an error deserves on screen. */
function errorText(e) {
  if (!(e instanceof ApiError)) return `${t('error')}: ${e instanceof Error ? e.message : String(e)}`;
  if (e.status === 0) return t('networkError', { message: e.message });
  if (e.status === 401) return t('unauthorized');
  if (e.status === 403) return t('forbidden', { message: e.message });
  if (e.status === 404) return t('notFound', { message: e.message });
  return `${t('error')} ${e.status}: ${e.message}`;
}
const errorBox = (e) => h('div', { class: 'error', role: 'alert' }, errorText(e));

// ---------------------------------------------------------------------------------------------
// Session

let me = null;
let refreshTimer = null;
/** A message to show on the next page rendered (after a report or a cancel re-renders the page). */
let flash = null;
let generation = 0;

async function loadMe() {
  me = null;
  if (!getToken()) return null;
  try {
    me = await get('/api/v1/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) clearToken();
    else throw e;
  }
  return me;
}

const isOps = () => me?.role === 'ops';
const seesWholeRollout = () => me?.role === 'ops' || me?.role === 'auditor';

function renderHeader() {
  const header = document.getElementById('header');
  header.replaceChildren(
    h('a', { href: '#/', class: 'brand' }, 'trienkhai', h('span', { class: 'brand-sub' }, t('appTitle'))),
    h('nav', { class: 'nav' }, me ? [link('#/', t('navRollouts'), { 'data-nav': 'rollouts' }), link('#/inbox', t('navInbox'), { 'data-nav': 'inbox' })] : []),
    h(
      'div',
      { class: 'lang', role: 'group', 'aria-label': 'Ngôn ngữ / Language' },
      ['vi', 'en'].map((l) =>
        h('button', { type: 'button', class: 'lang-btn', 'data-lang': l, 'aria-pressed': String(getLang() === l), onclick: () => (setLang(l), renderHeader(), route()) }, l.toUpperCase()),
      ),
    ),
    h(
      'div',
      { class: 'session' },
      me
        ? [
            h('span', { class: 'who', 'data-role': me.role }, t('loggedInAs', { label: me.label, role: t(`role_${me.role}`), unit: me.unitCode ? ` ${me.unitCode}` : '' })),
            h('button', { type: 'button', class: 'link', onclick: () => (clearToken(), (me = null), renderHeader(), route()) }, t('logout')),
          ]
        : [],
    ),
  );
}

function loginPage(message) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, placeholder: 'tk_…', 'aria-describedby': 'token-hint' });
  const remember = h('input', { id: 'remember', type: 'checkbox' });
  const err = h('div', { class: 'field-error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'form login',
      id: 'login',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const token = input.value.trim();
        if (!token) return void (err.textContent = t('v_required'));
        setToken(token, remember.checked);
        try {
          if (!(await loadMe())) return void (err.textContent = t('unauthorized'));
        } catch (e) {
          return void (err.textContent = errorText(e));
        }
        renderHeader();
        route();
      },
    },
    h('h1', {}, t('login')),
    h('p', {}, t('needLogin')),
    h('div', { class: 'field' }, h('label', { for: 'token' }, t('tokenLabel')), input, h('small', { id: 'token-hint' }, t('tokenHint'))),
    h('div', { class: 'field field-checkbox' }, remember, h('label', { for: 'remember' }, t('remember'))),
    err,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('login'))),
  );
  show(form);
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// Router

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  // A mangled address (%ZZ) is shown as "not found", never thrown.
  const decode = (seg) => {
    try {
      return decodeURIComponent(seg);
    } catch {
      return seg;
    }
  };
  const parts = path.split('/').filter(Boolean).map(decode);
  return { parts, query: new URLSearchParams(query) };
}

async function route() {
  const gen = ++generation;
  clearInterval(refreshTimer);
  refreshTimer = null;
  if (!me) return loginPage();
  const { parts, query } = parseHash();
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', (a.dataset.nav === 'inbox') === (parts[0] === 'inbox'));
  show(h('p', { class: 'loading' }, t('loading')));
  const stale = () => gen !== generation;
  const shown = async (page) => {
    await page;
    if (stale()) return;
    if (flash) main().prepend(h('div', { class: 'flash', role: 'status', id: 'flash' }, flash));
    flash = null;
  };
  try {
    if (parts.length === 0) return await shown(rolloutsPage(stale));
    if (parts[0] === 'inbox') return await shown(inboxPage(stale, query));
    if (parts[0] === 'r' && parts[1] && parts.length === 2) return await shown(overviewPage(stale, parts[1]));
    if (parts[0] === 'r' && parts[1] && parts[2] === 'tree') return await shown(treePage(stale, parts[1], query));
    if (parts[0] === 'r' && parts[1] && parts[2] === 'u' && parts[3]) return await shown(unitPage(stale, parts[1], parts[3]));
    show(h('p', { class: 'error' }, t('notFound', { message: location.hash })));
  } catch (e) {
    flash = null;
    if (stale()) return;
    if (e instanceof ApiError && e.status === 401) {
      clearToken();
      me = null;
      renderHeader();
      return loginPage(t('unauthorized'));
    }
    show(errorBox(e));
  }
}

/** Re-run `fn` every few seconds while this page is shown (skipped while the user is typing in a form). */
function keepFresh(stale, fn) {
  refreshTimer = setInterval(() => {
    if (stale()) return clearInterval(refreshTimer);
    if (document.activeElement?.closest('form')) return;
    fn().catch(() => undefined);
  }, REFRESH_MS);
}

const rolloutNav = (id, here) =>
  h(
    'nav',
    { class: 'subnav' },
    seesWholeRollout() ? link(`#/r/${enc(id)}`, t('navOverview'), { class: here === 'overview' ? 'active' : '' }) : null,
    link(`#/r/${enc(id)}/tree`, t('navTree'), { class: here === 'tree' ? 'active' : '' }),
    link(`#/inbox?rollout=${enc(id)}`, t('navInbox')),
  );

// ---------------------------------------------------------------------------------------------
// Rollouts

async function rolloutsPage(stale) {
  const [list, plans] = await Promise.all([get(`/api/v1/rollouts${qs({ pageSize: 200 })}`), isOps() ? get('/api/v1/plans') : []]);
  if (stale()) return;
  const table = list.items.length
    ? h(
        'table',
        { class: 'table', id: 'rollouts' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('rolloutId'), t('resolution'), t('title'), t('rootUnit'), t('startedAt'), t('status')].map((c) => h('th', {}, c)),
          ),
        ),
        h(
          'tbody',
          {},
          list.items.map((r) =>
            h(
              'tr',
              { 'data-rollout': r.rolloutId },
              h('td', {}, link(seesWholeRollout() ? `#/r/${enc(r.rolloutId)}` : `#/r/${enc(r.rolloutId)}/tree`, r.rolloutId)),
              h('td', {}, `${r.resolution} (${fmtLocalDate(r.resolutionDate)})`),
              h('td', {}, r.title),
              h('td', {}, r.rootUnit),
              h('td', {}, fmtDateTime(r.startedAt)),
              h('td', {}, h('span', { class: `status status-${r.status}` }, t(`status_${r.status}`))),
            ),
          ),
        ),
      )
    : h('p', { class: 'empty' }, t('noRollouts'));
  show(h('h1', {}, t('rollouts')), table, isOps() ? startRolloutForm(plans) : null);
}

/** The start form; `plans` are the server's built-in plans (GET /api/v1/plans). */
function startRolloutForm(plans) {
  const fields = [
    { name: 'resolution', type: 'text', max: 100, required: true },
    { name: 'resolutionDate', type: 'date', required: true },
    { name: 'title', type: 'text', max: 500, required: true },
    { name: 'rootUnit', type: 'text', max: 64, required: true },
    { name: 'planName', type: 'select', options: plans.map((p) => p.id), labels: plans.map((p) => `${p.id} — ${p.title} (${t('stepsCount', { n: p.steps })})`), required: true },
    { name: 'plan', type: 'textarea', max: 200_000 },
    { name: 'rolloutId', type: 'text', max: 100 },
  ];
  const labels = {
    resolution: t('resolution'),
    resolutionDate: t('resolutionDate'),
    title: t('title'),
    rootUnit: t('rootUnit'),
    planName: t('planBuiltIn'),
    plan: t('planJson'),
    rolloutId: t('rolloutId'),
  };
  const form = buildForm(fields, { id: 'start-rollout', submitLabel: t('start'), labels });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    const { planName, plan: planText, ...rest } = r.values;
    let plan = planName;
    if (planText) {
      try {
        plan = JSON.parse(planText);
      } catch (e) {
        return showErrors(form, { plan: t('planJsonInvalid', { message: e.message }) }, t('fixErrors'));
      }
    }
    if (rest.rolloutId && (rest.rolloutId.length > CODES.rolloutIdMax || !new RegExp(CODES.rolloutId).test(rest.rolloutId))) return showErrors(form, { rolloutId: t('v_code') }, t('fixErrors'));
    await submit(
      form,
      () => post('/api/v1/rollouts', { ...rest, plan }),
      (res) => {
        flash = res.alreadyStarted ? t('alreadyStarted', { id: res.rolloutId }) : t('started', { id: res.rolloutId, units: res.units });
        location.hash = `#/r/${enc(res.rolloutId)}`;
        return flash;
      },
      { root: 'rootUnit', hierarchy: 'rootUnit' },
    );
  });
  return h('section', { class: 'card' }, h('h2', {}, t('startRollout')), form);
}

/** Send a form's request: success text in its status slot; a 400's issues next to their fields; other refusals above the button. */
async function submit(form, send, ok, aliases = {}) {
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  form.querySelector('.form-result').textContent = '';
  try {
    const res = await send();
    showErrors(form, {});
    form.querySelector('.form-result').textContent = ok(res);
    return res;
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) {
      const byField = {};
      for (const [k, v] of Object.entries(issuesByField(e.issues))) byField[aliases[k] ?? k] = v;
      showErrors(form, byField, t('serverRefused', { message: e.message }));
    } else showErrors(form, {}, e instanceof ApiError && e.status === 404 && /no API route/.test(e.message) ? t('notAvailable') : errorText(e));
    return undefined;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Overview

/** A rollout just started is recorded by its workflow a moment later: wait for it a little before saying 404. */
async function patiently(stale, fn, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404 && /^no rollout/.test(e.message)) || Date.now() > end || stale()) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function overviewPage(stale, id) {
  const [ov, charts] = await patiently(stale, () => Promise.all([get(`/api/v1/rollouts/${enc(id)}`), get(`/api/v1/rollouts/${enc(id)}/charts`)]));
  if (stale()) return;
  const r = ov.rollout;
  const countsEl = h('div', { class: 'counts', id: 'counts' });
  const chartsEl = h('div', { class: 'charts', id: 'charts' });
  const notifEl = h('section', { class: 'card', id: 'notifications', hidden: true });
  const batchesEl = h('section', { class: 'card', id: 'batches', hidden: true });
  const fill = (ov, charts) => {
    countsEl.replaceChildren(
      ...[
        countCard('units', t('units'), ov.counts.units),
        countCard('completed', t('completedUnits'), ov.counts.completed),
        ov.counts.cancelled ? countCard('cancelled', t('cancelledUnits'), ov.counts.cancelled) : null,
        ov.counts.merged ? countCard('merged', t('mergedUnits'), ov.counts.merged) : null,
        ov.counts.dissolved ? countCard('dissolved', t('dissolvedUnits'), ov.counts.dissolved) : null,
        ov.counts.suspended ? countCard('suspended', t('suspendedUnits'), ov.counts.suspended) : null,
        countCard('openEscalations', t('openEscalations'), ov.counts.openEscalations),
        h('p', { class: 'muted as-of' }, t('asOf', { at: fmtDateTime(ov.asOf) })),
      ].filter(Boolean),
    );
    chartsEl.replaceChildren(...renderCharts(charts));
  };
  fill(ov, charts);
  const cancel = isOps() && r.status === 'running' ? cancelSection(id) : null;
  show(
    h('h1', {}, t('overview')),
    h('p', { class: 'rollout-head' }, h('strong', {}, r.rolloutId), ` — ${r.resolution} (${fmtLocalDate(r.resolutionDate)}): ${r.title}`),
    h(
      'p',
      { class: 'muted' },
      `${t('plan')} ${r.planId} · ${t('rootUnit')} ${r.rootUnit} · ${t('startedAt')} ${fmtDateTime(r.startedAt)} · `,
      h('span', { class: `status status-${r.status}`, id: 'rollout-status' }, t(`status_${r.status}`)),
    ),
    rolloutNav(id, 'overview'),
    countsEl,
    chartsEl,
    batchesEl,
    notifEl,
    isOps() && r.status === 'running' ? amendSection(id) : null,
    cancel,
  );
  await loadNotifications(notifEl, id);
  await loadBatches(batchesEl, id);
  keepFresh(stale, async () => {
    const [o, c] = await Promise.all([get(`/api/v1/rollouts/${enc(id)}`), get(`/api/v1/rollouts/${enc(id)}/charts`)]);
    if (!stale()) fill(o, c);
    await loadNotifications(notifEl, id);
    await loadBatches(batchesEl, id);
  });
}

/** The rollout's batches (one action on many units, amendments, hierarchy changes) with their progress. */
async function loadBatches(panel, rolloutId) {
  let rows;
  try {
    rows = await get(`/api/v1/rollouts/${enc(rolloutId)}/batches`);
  } catch {
    panel.hidden = true;
    return;
  }
  panel.hidden = rows.length === 0;
  if (!rows.length) return;
  panel.replaceChildren(
    h('h2', {}, t('batches')),
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [t('batch'), t('action'), t('progress'), t('decidedBy'), t('startedAt')].map((c) => h('th', {}, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((b) => {
          const answered = b.units - b.counts.pending;
          return h(
            'tr',
            { 'data-batch': b.batchId, 'data-status': b.status },
            h('td', { class: 'code' }, b.batchId),
            h('td', {}, b.title?.[getLang()] ?? b.action),
            h(
              'td',
              {},
              h('progress', { max: String(b.units), value: String(answered) }),
              ` ${answered}/${b.units} — ${t('batchCounts', { done: b.counts.done, unchanged: b.counts.unchanged, refused: b.counts.refused })}`,
            ),
            h('td', {}, `${b.decidedBy}: ${b.reason}`),
            h('td', {}, fmtDateTime(b.startedAt)),
          );
        }),
      ),
    ),
  );
}

/** Ops amends the running plan: the whole plan JSON, previewed (the diff, the units), then confirmed. */
function amendSection(id) {
  const fields = [
    { name: 'plan', type: 'textarea', max: 200_000, required: true },
    { name: 'reason', type: 'textarea', max: 2000, required: true },
  ];
  const form = buildForm(fields, { id: 'amend-plan', submitLabel: t('amendPreview'), labels: { plan: t('amendPlan'), reason: t('amendReason') } });
  const out = h('div', { id: 'amend-preview' });
  form.hidden = true;
  const load = h('button', { type: 'button', id: 'amend-load' }, t('amendLoad'));
  load.addEventListener('click', async () => {
    const p = await get(`/api/v1/rollouts/${enc(id)}/plan`);
    form.querySelector('[name=plan]').value = JSON.stringify(p.plan, null, 2);
  });
  form.prepend(load);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    let plan;
    try {
      plan = JSON.parse(r.values.plan);
    } catch (e) {
      return showErrors(form, { plan: `${t('amendNotJson')}: ${e.message}` }, t('fixErrors'));
    }
    const body = { plan, reason: r.values.reason };
    let preview;
    if (
      !(await submit(
        form,
        async () => (preview = await post(`/api/v1/rollouts/${enc(id)}/amend/preview`, body)),
        () => undefined,
        { 'body.plan': 'plan' },
      ))
    )
      return;
    const confirm = h('button', { type: 'button', id: 'amend-confirm' }, t('amendConfirm', { units: preview.units }));
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      try {
        const done = await post(`/api/v1/rollouts/${enc(id)}/amend`, { ...body, fingerprint: preview.fingerprint });
        flash = t('amended', { version: done.version, units: done.units });
        setTimeout(route, 300);
      } catch (e) {
        confirm.disabled = false;
        out.append(h('p', { class: 'error' }, errorText(e)));
      }
    });
    out.replaceChildren(
      h('p', {}, t('amendVersions', { from: preview.fromVersion, to: preview.toVersion, units: preview.units })),
      h(
        'ul',
        {},
        preview.changes.map((c) => h('li', {}, c[getLang()] ?? c.vi)),
      ),
      confirm,
    );
  });
  return h('section', { class: 'card' }, h('button', { type: 'button', id: 'amend-toggle', onclick: () => (form.hidden = !form.hidden) }, t('amendRollout')), form, out);
}

const countCard = (key, label, n) => h('div', { class: 'count', 'data-count': key }, h('div', { class: 'count-n' }, String(n)), h('div', { class: 'count-label' }, label));

function renderCharts(c) {
  const fig = (key, title, svg, note) =>
    h(
      'figure',
      { class: 'card chart-card', 'data-chart': key },
      h('figcaption', {}, title, note ? h('span', { class: 'muted' }, ` (${note})`) : null),
      svg ? h('div', { html: svg }) : h('p', { class: 'empty' }, t('noData')),
    );
  const study = c.studyCoverage.length
    ? barChart(
        c.studyCoverage.map((s) => ({
          key: s.level,
          label: levelLabel(s.level),
          value: s.attended,
          max: s.members,
          text: `${fmtPercent(s.coverage)} · ${t('membersStudied', { attended: s.attended, members: s.members })} · ${t('unitsDone', { done: s.done, units: s.units })}`,
        })),
        { title: t('chartStudy'), cls: 'bar-study' },
      )
    : null;
  const seg = (key, value, cls) => ({ key, value, cls, label: t(`state_${key}`) });
  const plans = c.plansIssued.length
    ? stackedBars(
        c.plansIssued.map((p) => ({
          key: p.level,
          label: levelLabel(p.level),
          segments: [
            seg('onTime', p.onTime, 'state-onTime'),
            seg('late', p.late, 'state-late'),
            seg('overdue', p.overdue, 'state-overdue'),
            seg('open', p.open, 'state-open'),
            seg('waiting', p.waiting, 'state-waiting'),
          ],
        })),
        { title: t('chartPlans') },
      )
    : null;
  const maxDocs = Math.max(1, ...c.documentsIssued.map((d) => d.documents));
  const docs = c.documentsIssued.length
    ? barChart(
        c.documentsIssued.map((d) => ({ key: d.level, label: levelLabel(d.level), value: d.documents, max: maxDocs, text: `${d.documents} ${t('documents')}` })),
        { title: t('chartDocs'), cls: 'bar-docs' },
      )
    : null;
  const pts = c.openEscalations.points;
  const escChart = pts.length ? lineChart(pts, { title: t('chartEsc'), fmt: c.openEscalations.bucket === 'day' ? fmtDate : fmtDateTime }) : null;
  return [
    fig('study', t('chartStudy'), study),
    fig('plans', t('chartPlans'), plans, plans ? null : undefined),
    fig('documents', t('chartDocs'), docs),
    fig('escalations', t('chartEsc'), escChart, t(`bucket_${c.openEscalations.bucket}`)),
  ];
}

/** Failed and retrying notification deliveries; the panel stays hidden where the server has no notifications route. */
async function loadNotifications(panel, rolloutId) {
  let items;
  try {
    const [failed, retrying] = await Promise.all(['failed', 'retrying'].map((status) => get(`/api/v1/notifications${qs({ rolloutId, status, pageSize: 100 })}`)));
    items = [...failed.items, ...retrying.items];
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return void (panel.hidden = true);
    panel.hidden = false;
    return void panel.replaceChildren(h('h2', {}, t('notifications')), errorBox(e));
  }
  panel.hidden = false;
  panel.replaceChildren(
    h('h2', {}, t('notifications')),
    items.length
      ? h(
          'table',
          { class: 'table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [t('event'), t('unit'), t('recipient'), t('channel'), t('status'), t('attempts'), t('lastError'), t('nextAttempt')].map((c) => h('th', {}, c)),
            ),
          ),
          h(
            'tbody',
            {},
            items.map((n) =>
              h(
                'tr',
                { 'data-notification': n.notificationId, class: `notif-${n.status}` },
                h('td', {}, n.eventType),
                h('td', {}, n.unitCode ?? '—'),
                h('td', {}, n.recipientUnit ?? '—'),
                h('td', {}, `${n.channel} ${n.address ?? ''}`),
                h('td', {}, h('span', { class: `status notif-status-${n.status}` }, t(`notif_${n.status}`))),
                h('td', {}, String(n.attempts)),
                h('td', { class: 'error-text' }, n.lastError ?? '—'),
                h('td', {}, fmtDateTime(n.nextAttemptAt)),
              ),
            ),
          ),
        )
      : h('p', { class: 'empty' }, t('noFailedNotifications')),
  );
}

function cancelSection(id) {
  const fields = [{ name: 'reason', type: 'textarea', max: 2000, required: true }];
  const form = buildForm(fields, { id: 'cancel-rollout', submitLabel: t('cancelConfirm'), labels: { reason: t('cancelReason') } });
  form.hidden = true;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    if (
      await submit(
        form,
        () => post(`/api/v1/rollouts/${enc(id)}/cancel`, r.values),
        () => (flash = t('cancelled')),
      )
    )
      setTimeout(route, 300);
  });
  return h('section', { class: 'card danger' }, h('button', { type: 'button', class: 'danger', id: 'cancel-toggle', onclick: () => (form.hidden = !form.hidden) }, t('cancelRollout')), form);
}

// ---------------------------------------------------------------------------------------------
// Steps as coloured states

export function stepState(s) {
  if (s.status === 'done') return s.late || (s.lateByMs ?? 0) > 0 ? 'late' : 'onTime';
  if (s.status === 'cancelled') return 'cancelled';
  if (s.overdue) return 'overdue';
  return s.status === 'waiting' ? 'waiting' : 'open';
}

const STATES = ['onTime', 'late', 'open', 'overdue', 'waiting', 'cancelled'];

const chip = (s) =>
  h(
    'span',
    {
      class: `chip state-${stepState(s)}`,
      'data-step': s.stepKey,
      'data-state': stepState(s),
      title: `${kindLabel(s.kind)} — ${t(`state_${stepState(s)}`)}${s.dueAt ? ` · ${t('due')} ${fmtDateTime(s.dueAt)}` : ''}`,
    },
    s.stepKey,
  );

const legend = () =>
  h(
    'div',
    { class: 'legend', 'aria-label': t('legend') },
    h('span', { class: 'muted' }, `${t('legend')}:`),
    STATES.map((s) => h('span', { class: `chip state-${s}`, 'data-legend': s }, t(`state_${s}`))),
  );

// ---------------------------------------------------------------------------------------------
// Hierarchy tree: one page of children at a time; never the whole tree

async function treePage(stale, id, query) {
  const overdueOnly = query.get('overdue') === 'true';
  const rootCode = seesWholeRollout() ? (await get(`/api/v1/rollouts/${enc(id)}`)).rollout.rootUnit : me.unitCode;
  const root = await get(`/api/v1/rollouts/${enc(id)}/units/${enc(rootCode)}`);
  if (stale()) return;
  const toggle = h('input', {
    type: 'checkbox',
    id: 'overdue-only',
    checked: overdueOnly || undefined,
    onchange: (ev) => (location.hash = `#/r/${enc(id)}/tree${ev.target.checked ? '?overdue=true' : ''}`),
  });
  const body = h('div', { class: 'tree', id: 'tree' });
  show(
    h('h1', {}, t('tree')),
    h('p', { class: 'rollout-head' }, h('strong', {}, id)),
    rolloutNav(id, 'tree'),
    h('div', { class: 'toolbar' }, h('label', { for: 'overdue-only', class: 'toggle' }, toggle, ` ${t('overdueOnly')}`), legend()),
    body,
  );
  if (overdueOnly) {
    const list = h('ul', { class: 'flat', id: 'overdue-list' });
    body.append(list);
    await loadPages(
      list,
      (page) => `/api/v1/rollouts/${enc(id)}/units${qs({ overdue: 'true', within: rootCode, page, pageSize: PAGE_SIZE })}`,
      (u) => unitRow(id, u, { flat: true }),
    );
    return;
  }
  const summary = { unitCode: root.unit.unitCode, name: root.unit.name, level: root.unit.level, children: root.unit.children, depth: root.unit.ancestors.length, steps: root.steps };
  const ul = h('ul', { class: 'nodes root' });
  body.append(ul);
  const li = unitRow(id, summary, {});
  ul.append(li);
  if (summary.children > 0) await expand(id, li, summary.unitCode);
}

function unitRow(rolloutId, u, { flat }) {
  const li = h('li', { class: 'node', 'data-unit': u.unitCode, 'data-depth': u.depth, style: flat ? `--depth:${u.depth}` : undefined });
  const toggle =
    !flat && u.children > 0
      ? h(
          'button',
          {
            type: 'button',
            class: 'twisty',
            'aria-expanded': 'false',
            'aria-label': `${t('expand')} ${u.unitCode}`,
            onclick: () => (li.querySelector(':scope > ul') ? collapse(li) : expand(rolloutId, li, u.unitCode)),
          },
          '▸',
        )
      : h('span', { class: 'twisty-space' });
  li.append(
    h(
      'div',
      { class: 'row' },
      toggle,
      link(`#/r/${enc(rolloutId)}/u/${enc(u.unitCode)}`, u.unitCode, { class: 'code' }),
      h('span', { class: 'name' }, u.name),
      h('span', { class: 'level muted' }, levelLabel(u.level)),
      !flat && u.children > 0 ? h('span', { class: 'muted kids' }, `(${u.children})`) : null,
      h('span', { class: 'chips' }, u.steps.map(chip)),
    ),
  );
  return li;
}

function collapse(li) {
  li.querySelector(':scope > ul')?.remove();
  const b = li.querySelector(':scope > .row > .twisty');
  b.setAttribute('aria-expanded', 'false');
  b.textContent = '▸';
}

async function expand(rolloutId, li, code) {
  const b = li.querySelector(':scope > .row > .twisty');
  const ul = h('ul', { class: 'nodes' });
  li.append(ul);
  if (b) {
    b.setAttribute('aria-expanded', 'true');
    b.textContent = '▾';
  }
  try {
    await loadPages(
      ul,
      (page) => `/api/v1/rollouts/${enc(rolloutId)}/units${qs({ parent: code, page, pageSize: PAGE_SIZE })}`,
      (u) => unitRow(rolloutId, u, { flat: false }),
    );
  } catch (e) {
    ul.replaceChildren(h('li', {}, errorBox(e)));
  }
}

/** Fill a list one page at a time; a "load more" button fetches the next page. */
async function loadPages(ul, url, row, page = 1, shown = 0) {
  const res = await get(url(page));
  ul.querySelector(':scope > .more')?.remove();
  if (page === 1 && res.items.length === 0) ul.append(h('li', { class: 'empty' }, t('noUnits')));
  for (const u of res.items) ul.append(row(u));
  const n = shown + res.items.length;
  if (n < res.total) {
    ul.append(
      h(
        'li',
        { class: 'more' },
        h(
          'button',
          { type: 'button', class: 'load-more', onclick: (ev) => ((ev.target.disabled = true), loadPages(ul, url, row, page + 1, n).catch((e) => ul.append(h('li', {}, errorBox(e))))) },
          t('loadMore', { shown: n, total: res.total }),
        ),
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Escalation inbox

async function inboxPage(stale, query) {
  const committee = me.role === 'committee';
  const recipient = committee ? me.unitCode : (query.get('recipient') ?? '');
  const status = ['open', 'resolved', 'all'].includes(query.get('status')) ? query.get('status') : 'open';
  const rolloutId = query.get('rollout') ?? '';
  const hashFor = (over) => `#/inbox${qs({ recipient: committee ? undefined : recipient, status, rollout: rolloutId, ...over })}`;
  const picker = committee
    ? null
    : h(
        'form',
        { class: 'inline', id: 'recipient-picker', onsubmit: (ev) => (ev.preventDefault(), (location.hash = hashFor({ recipient: ev.target.elements.recipient.value.trim() }))) },
        h('label', { for: 'recipient' }, t('recipientPicker')),
        h('input', { id: 'recipient', name: 'recipient', value: recipient, pattern: CODES.unitCode.replace(/^\^|\$$/g, '').replace('._-', '._\\-'), maxlength: CODES.unitCodeMax }),
        h('button', { type: 'submit' }, t('show')),
      );
  const tabs = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    ['open', 'resolved', 'all'].map((s) => link(hashFor({ status: s }), t(`esc_${s}`), { role: 'tab', 'data-status': s, 'aria-selected': String(s === status), class: s === status ? 'active' : '' })),
  );
  const listEl = h('div', { id: 'inbox-list' });
  const refresh = h('button', { type: 'button', id: 'refresh', onclick: () => load() }, t('refresh'));
  show(
    h('h1', {}, recipient ? t('inboxOf', { code: recipient }) : t('inbox')),
    rolloutId ? h('p', { class: 'muted' }, rolloutId) : null,
    h('div', { class: 'toolbar' }, picker, tabs, refresh),
    h('div', { class: 'flash', id: 'inbox-msg', role: 'status', hidden: true }),
    listEl,
  );
  /** An action form someone has open (acknowledge, extend, direct): an automatic refresh must not wipe it. */
  const busy = () => listEl.querySelector('.action-row:not([hidden])') !== null;
  const load = async ({ auto = false } = {}) => {
    if (auto && busy()) return;
    const res = await get(`/api/v1/escalations${qs({ recipient, status, rolloutId, pageSize: PAGE_SIZE })}`);
    // The answer may come after someone opened a form: then this refresh waits for the next one.
    if (stale() || (auto && busy())) return;
    listEl.replaceChildren(escalationTable(res, committee && recipient === me.unitCode, () => load()));
  };
  await load();
  keepFresh(stale, () => load({ auto: true }));
}

function escalationTable(res, mayAct, reload) {
  if (!res.items.length) return h('p', { class: 'empty', id: 'no-escalations' }, t('noEscalations'));
  return h(
    'table',
    { class: 'table', id: 'escalations' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [t('unit'), t('step'), t('tier'), t('deadline'), t('overdueBy'), t('status'), mayAct ? t('actions') : null].filter(Boolean).map((c) => h('th', {}, c)),
      ),
    ),
    h(
      'tbody',
      {},
      res.items.map((e) => escalationRows(e, mayAct, reload)),
    ),
    res.total > res.items.length ? h('tfoot', {}, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, `${res.items.length}/${res.total}`))) : null,
  );
}

function escalationRows(e, mayAct, reload) {
  const state =
    e.status === 'open'
      ? h('span', { class: 'status status-open' }, t('esc_open'))
      : h('span', { class: `status status-resolved resolution-${e.resolution}` }, t(`resolution_${e.resolution}`) + (e.resolvedAt ? ` ${fmtDateTime(e.resolvedAt)}` : ''));
  const ack = e.acknowledgedAt ? h('div', { class: 'muted ack' }, t('acknowledged', { at: fmtDateTime(e.acknowledgedAt) })) : null;
  const dirs = e.directives ? h('div', { class: 'muted' }, t('directives', { n: e.directives })) : null;
  const formRow = h('tr', { class: 'action-row', hidden: true }, h('td', { colspan: 7 }));
  const open = (kind) => {
    const cell = formRow.firstChild;
    if (!formRow.hidden && cell.dataset.kind === kind) return void (formRow.hidden = true);
    cell.dataset.kind = kind;
    cell.replaceChildren(actionForm(kind, e, reload));
    formRow.hidden = false;
    cell.querySelector('input, textarea')?.focus();
  };
  const actions =
    mayAct && e.status === 'open'
      ? h(
          'td',
          { class: 'actions' },
          e.acknowledgedAt ? null : h('button', { type: 'button', 'data-action': 'acknowledge', onclick: (ev) => acknowledge(ev.target, e, reload) }, t('acknowledge')),
          h('button', { type: 'button', 'data-action': 'extend', onclick: () => open('extend') }, t('extend')),
          h('button', { type: 'button', 'data-action': 'direct', onclick: () => open('direct') }, t('direct')),
          h('div', { class: 'action-msg', role: 'status' }),
        )
      : mayAct
        ? h('td', {})
        : null;
  const row = h(
    'tr',
    { 'data-escalation': e.escalationId, 'data-unit': e.unitCode, 'data-status': e.status },
    h('td', {}, link(`#/r/${enc(e.rolloutId)}/u/${enc(e.unitCode)}`, e.unitCode, { class: 'code' }), ' ', e.unitName, e.self ? h('span', { class: 'muted' }, ` ${t('self')}`) : null),
    h('td', {}, e.stepKey),
    h('td', {}, String(e.tier)),
    h('td', {}, fmtDateTime(e.dueAt)),
    h('td', { class: e.status === 'open' ? 'overdue-by' : '' }, fmtDuration(e.overdueMs)),
    h('td', {}, state, ack, dirs),
    actions,
  );
  return [row, formRow];
}

async function acknowledge(button, e, reload) {
  button.disabled = true;
  const msg = button.parentElement.querySelector('.action-msg');
  try {
    await post(`/api/v1/escalations/${enc(e.escalationId)}/acknowledge`, {});
    msg.textContent = t('acknowledgedDone');
    await reload();
  } catch (err) {
    msg.textContent = err instanceof ApiError && err.status === 404 && /no API route/.test(err.message) ? t('notAvailable') : errorText(err);
    button.disabled = false;
  }
}

function actionForm(kind, e, reload) {
  const fields = kind === 'extend' ? EXTEND_FIELDS() : DIRECT_FIELDS();
  const form = buildForm(fields, { id: `${kind}-form`, submitLabel: kind === 'extend' ? t('extend') : t('send') });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    const res = await submit(
      form,
      () => post(`/api/v1/escalations/${enc(e.escalationId)}/${kind}`, r.values),
      (res) => (kind === 'extend' ? t('extended', { at: fmtDateTime(res.newDueAt) }) : t('directed')),
    );
    if (!res) return;
    // The answer stays above the list, which is read again (the escalation leaves the open list).
    const msg = document.getElementById('inbox-msg');
    msg.textContent = `${kind === 'extend' ? `${e.unitCode} ${e.stepKey}: ` : ''}${form.querySelector('.form-result').textContent}`;
    msg.hidden = false;
    setTimeout(() => reload().catch(() => undefined), 500);
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// A unit's page

/** May this token report this step of this unit? (The server decides; this only hides what it would refuse.) */
function mayReport(unit, step) {
  if (step.status !== 'open') return false;
  if (me.role === 'unit') return unit.unitCode === me.unitCode && step.kind !== 'supervise';
  if (me.role === 'inspector') return step.kind === 'supervise' && (unit.unitCode === me.unitCode || unit.ancestors.some((a) => a.code === me.unitCode));
  return false;
}

async function unitPage(stale, id, code) {
  const [d, story] = await Promise.all([
    get(`/api/v1/rollouts/${enc(id)}/units/${enc(code)}`),
    get(`/api/v1/rollouts/${enc(id)}/units/${enc(code)}/timeline${qs({ lang: getLang(), pageSize: 500 })}`),
  ]);
  const timeline = story.items;
  if (stale()) return;
  const u = d.unit;
  const crumbs = h('nav', { class: 'crumbs' }, [...[...u.ancestors].reverse().map((a) => [link(`#/r/${enc(id)}/u/${enc(a.code)}`, a.code, { title: a.name }), ' › ']), h('strong', {}, u.unitCode)]);
  const facts = h(
    'dl',
    { class: 'facts' },
    [
      [t('level'), levelLabel(u.level)],
      [t('members'), String(u.members)],
      [t('standingCommittee'), u.standingCommittee ? t('yes') : t('no')],
      [t('children'), String(u.children)],
      [t('status'), t(`status_${u.status}`)],
    ].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
  const steps = h(
    'table',
    { class: 'table', id: 'steps' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [t('step'), '', t('status'), t('due'), t('completed'), t('lateBy'), t('attended'), t('reminders'), ''].map((c) => h('th', {}, c)),
      ),
    ),
    h(
      'tbody',
      {},
      d.steps.map((s) =>
        h(
          'tr',
          { 'data-step': s.stepKey, 'data-state': stepState(s) },
          h('td', {}, chip(s)),
          h('td', {}, kindLabel(s.kind)),
          h('td', {}, t(`state_${stepState(s)}`)),
          h('td', {}, fmtDateTime(s.dueAt), s.originalDueAt && s.dueAt && s.originalDueAt !== s.dueAt ? h('div', { class: 'muted' }, h('s', {}, fmtDateTime(s.originalDueAt))) : null),
          h('td', {}, fmtDateTime(s.completedAt)),
          h('td', {}, s.lateByMs ? fmtDuration(s.lateByMs) : '—'),
          h('td', {}, s.kind === 'studyConference' ? `${s.attended}/${u.members}` : '—'),
          h('td', {}, String(s.remindersSent)),
          h('td', {}, s.dueAt ? explainButton(id, u.unitCode, s.stepKey) : null),
        ),
      ),
    ),
  );
  const reportable = d.steps.filter((s) => mayReport(u, s));
  const forms = reportable.map((s) => reportForm(id, u, s));
  const canReportAtAll = me.role === 'unit' || me.role === 'inspector';
  // A standing committee above the unit may extend its open deadlines, escalated or not: the server's
  // rule (domain/escalation.ts mayExtend) names who in `extendableBy`, and decides again on submit.
  const extendable = me.role === 'committee' && d.extendableBy.includes(me.unitCode) ? d.steps.filter((s) => s.dueAt && (s.status === 'open' || s.status === 'waiting')) : [];
  const extendForms = extendable.map((s) => unitExtendForm(id, u, s));
  show(
    h('h1', {}, `${u.name}`),
    h('p', { class: 'muted' }, h('span', { class: 'code' }, u.unitCode), ' · ', id),
    h('nav', { class: 'subnav' }, seesWholeRollout() ? link(`#/r/${enc(id)}`, t('navOverview')) : null, link(`#/r/${enc(id)}/tree`, t('navTree'))),
    crumbs,
    facts,
    h('h2', {}, t('steps')),
    steps,
    canReportAtAll ? h('h2', {}, t('report')) : null,
    canReportAtAll && !forms.length ? h('p', { class: 'empty' }, t('noReportableSteps')) : null,
    forms,
    extendForms.length ? h('h2', {}, t('extend')) : null,
    extendForms,
    h('h2', {}, t('timeline')),
    timeline.length
      ? h(
          'ol',
          { class: 'timeline', id: 'timeline' },
          timeline.map((e) =>
            h('li', { 'data-type': e.type, title: e.title }, h('time', {}, fmtDateTime(e.occurredAt)), h('span', { class: 'text' }, e.text), h('span', { class: 'muted by' }, ` — ${e.by}`)),
          ),
        )
      : h('p', { class: 'empty' }, t('noTimeline')),
  );
}

/** Why a deadline is the date it is (GET …/steps/{key}/explain): the rule, the calendar, the skipped days, every change. */
function explainButton(rolloutId, unitCode, stepKey) {
  const box = h('pre', { class: 'explain', hidden: true, 'data-explain': stepKey });
  const button = h('button', { type: 'button', class: 'link', 'data-explain-step': stepKey }, t('explain'));
  button.addEventListener('click', async () => {
    if (!box.hidden) return (box.hidden = true);
    try {
      const x = await get(`/api/v1/rollouts/${enc(rolloutId)}/units/${enc(unitCode)}/steps/${enc(stepKey)}/explain`);
      box.textContent = (x.lines[getLang()] ?? x.lines.vi).join('\n');
    } catch (e) {
      box.textContent = errorText(e);
    }
    box.hidden = false;
  });
  return h('div', {}, button, box);
}

/** A committee above the unit extends one step's deadline from the unit's page (POST …/units/{code}/extend). */
function unitExtendForm(rolloutId, unit, step) {
  const fields = EXTEND_FIELDS();
  const form = buildForm(fields, { id: `extend-${step.stepKey.replace(/[^A-Za-z0-9-]/g, '-')}`, submitLabel: t('extend') });
  form.dataset.step = step.stepKey;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    const res = await submit(
      form,
      () => post(`/api/v1/rollouts/${enc(rolloutId)}/units/${enc(unit.unitCode)}/extend`, { stepId: step.stepId, occurrence: step.occurrence, ...r.values }),
      (res) => (flash = t('extended', { at: fmtDateTime(res.newDueAt) })),
    );
    if (res) setTimeout(route, 300);
  });
  return h(
    'section',
    { class: 'card extend', 'data-extend-step': step.stepKey },
    h('h3', {}, `${step.stepKey} — ${kindLabel(step.kind)}`, h('span', { class: 'muted' }, ` · ${t('due')} ${fmtDateTime(step.dueAt)}`)),
    form,
  );
}

function reportForm(rolloutId, unit, step) {
  const fields = REPORT_FIELDS[step.kind]();
  const form = buildForm(fields, { id: `report-${step.stepKey.replace(/[^A-Za-z0-9-]/g, '-')}`, submitLabel: t('submit') });
  form.dataset.step = step.stepKey;
  // One ID per filled-in form: sending it twice (a double click, a retry) counts once.
  let reportId = `web-${crypto.randomUUID()}`;
  form.addEventListener('input', () => (reportId = `web-${crypto.randomUUID()}`));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = readForm(form, fields);
    if (r.errors) return showErrors(form, r.errors, t('fixErrors'));
    const body = { reportId, stepId: step.stepId, kind: step.kind, ...(step.occurrence ? { occurrence: step.occurrence } : {}), ...r.values };
    const res = await submit(
      form,
      () => post(`/api/v1/rollouts/${enc(rolloutId)}/units/${enc(unit.unitCode)}/reports`, body),
      (res) =>
        (flash = [
          res.duplicate ? t('duplicate') : t('recorded'),
          res.status === 'done' ? t('stepNowDone') : t('stepStillOpen'),
          res.coverage !== undefined ? t('coverage', { p: fmtPercent(res.coverage) }) : '',
        ]
          .filter(Boolean)
          .join(' ')),
    );
    // The page again, from the read model: the step's new state and the report in the timeline.
    if (res) setTimeout(route, 300);
  });
  return h(
    'section',
    { class: 'card report', 'data-report-step': step.stepKey },
    h('h3', {}, t('reportFor', { step: step.stepKey }), h('span', { class: 'muted' }, ` — ${kindLabel(step.kind)}`)),
    form,
  );
}

// ---------------------------------------------------------------------------------------------

async function boot() {
  setLang(getLang());
  takeTokenFromHash();
  try {
    await loadMe();
  } catch (e) {
    renderHeader();
    return show(errorBox(e));
  }
  renderHeader();
  window.addEventListener('hashchange', () => {
    if (takeTokenFromHash()) return void loadMe().then(() => (renderHeader(), route()));
    route();
  });
  await route();
}

boot();
