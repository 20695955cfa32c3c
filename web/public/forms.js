// Forms: report forms per step kind and the committees' action forms. The browser checks mirror the
// shapes of the server's zod schemas (domain/reports.ts, api/routes.ts) so mistakes show at once;
// the engine's own rules (e.g. more attendees than members left to study, the document type, the
// cascade) stay on the server, whose 400 answers are shown next to the field they name.
import { t, todayLocal } from './i18n.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(s) {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** The shape of `number-TYPE/ISSUER` after the server's normalisation ("Số:" dropped, spaces around - and / removed). */
export function looksLikeDocumentNumber(s) {
  const n = s
    .normalize('NFC')
    .trim()
    .replace(/^s[ốo](?:\s*:\s*|\s+|(?=\d))/iu, '')
    .replace(/\s*([-/])\s*/g, '$1');
  return /^\d+[A-Za-z]?-[^\s/-][^\s/]*\/\S+$/u.test(n);
}

const text = (name, max, opts = {}) => ({ name, type: opts.long ? 'textarea' : 'text', max, required: !opts.optional });
const date = (name, opts = {}) => ({ name, type: 'date', required: !opts.optional, default: opts.optional ? undefined : todayLocal });

/** Report fields per step kind (the StepReport schemas without reportId, unitCode, stepId, occurrence). */
export const REPORT_FIELDS = {
  studyConference: () => [date('sessionDate'), { name: 'attended', type: 'int', min: 1, required: true }, { name: 'makeup', type: 'checkbox' }],
  draftPlan: () => [text('draftedBy', 200), text('title', 500), date('submittedOn')],
  issuePlan: () => [{ name: 'documentNumber', type: 'doc', required: true }, date('issuedOn'), text('title', 500)],
  periodicReport: () => [text('period', 40), { name: 'indicators', type: 'indicators' }, date('submittedOn'), { name: 'documentNumber', type: 'doc' }, date('documentDate', { optional: true })],
  supervise: () => [date('inspectedOn'), text('inspector', 200), text('findings', 4000, { long: true })],
  review: () => [
    { name: 'review', type: 'select', options: ['midterm', 'final'], required: true },
    { name: 'documentNumber', type: 'doc', required: true },
    date('issuedOn'),
    text('summary', 4000, { long: true }),
  ],
};

export const EXTEND_FIELDS = () => [date('until'), text('reason', 2000, { long: true }), text('decision', 2000, { long: true, optional: true })];
export const DIRECT_FIELDS = () => [text('directive', 2000, { long: true }), date('respondBy', { optional: true })];

/** The error for one field's raw value, or null. */
export function checkField(f, raw) {
  const v = typeof raw === 'string' ? raw.trim() : raw;
  if (f.type === 'checkbox') return null;
  if (v === '' || v == null) return f.required ? t('v_required') : null;
  switch (f.type) {
    case 'date':
      return isCalendarDate(v) ? null : t('v_date');
    case 'int':
      return /^\d+$/.test(v) && Number(v) >= (f.min ?? 0) ? null : t('v_intMin', { min: f.min ?? 0 });
    case 'doc':
      return looksLikeDocumentNumber(v) ? null : t('v_docNumber');
    case 'indicators':
      return v.split('\n').every((line) => line.trim() === '' || /^[^=]{1,60}=\s*-?\d+(\.\d+)?\s*$/.test(line.trim())) ? null : t('v_indicators');
    case 'select':
      return f.options.includes(v) ? null : t('v_required');
    default:
      return f.max && v.length > f.max ? t('v_maxLen', { max: f.max }) : null;
  }
}

/** The JSON value of a field, or undefined to leave it out. */
function valueOf(f, raw) {
  if (f.type === 'checkbox') return raw;
  const v = typeof raw === 'string' ? raw.trim() : raw;
  if (v === '' || v == null) return undefined;
  if (f.type === 'int') return Number(v);
  if (f.type === 'indicators') {
    const out = {};
    for (const line of v.split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf('=');
      out[line.slice(0, i).trim()] = Number(line.slice(i + 1).trim());
    }
    return out;
  }
  return v;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c) e.append(c);
  return e;
}

/** A form for these fields: labelled inputs with HTML validation attributes and an error slot each. */
export function buildForm(fields, { id, submitLabel, labels = {} }) {
  const form = el('form', { id, class: 'form', novalidate: true, 'data-form': id });
  for (const f of fields) {
    const inputId = `${id}-${f.name}`;
    let input;
    const common = { id: inputId, name: f.name, 'aria-describedby': `${inputId}-error`, required: f.required || undefined };
    if (f.type === 'textarea') input = el('textarea', { ...common, rows: 3, maxlength: f.max });
    else if (f.type === 'indicators') input = el('textarea', { ...common, rows: 3, placeholder: 'dangVienMoi=12' });
    else if (f.type === 'select') input = el('select', common, ...f.options.map((o) => el('option', { value: o, text: f.labels ? f.labels[f.options.indexOf(o)] : t(`f_${f.name}_${o}`) })));
    else if (f.type === 'checkbox') input = el('input', { ...common, type: 'checkbox' });
    else if (f.type === 'date') input = el('input', { ...common, type: 'date', value: f.default ? f.default() : undefined });
    else if (f.type === 'int') input = el('input', { ...common, type: 'number', min: f.min, step: 1, inputmode: 'numeric' });
    else input = el('input', { ...common, type: 'text', maxlength: f.max, placeholder: f.type === 'doc' ? '45-KH/TU' : undefined });
    const label = el('label', { for: inputId, text: (labels[f.name] ?? t(`f_${f.name}`)) + (f.required || f.type === 'checkbox' ? '' : ` (${t('optional')})`) });
    form.append(
      el(
        'div',
        { class: `field field-${f.type}`, 'data-field': f.name },
        f.type === 'checkbox' ? [input, label] : [label, input],
        el('div', { class: 'field-error', id: `${inputId}-error`, 'data-error-for': f.name, role: 'alert' }),
      ),
    );
  }
  form.append(
    el('div', { class: 'form-error', role: 'alert' }),
    el('div', { class: 'form-actions' }, el('button', { type: 'submit', class: 'primary', text: submitLabel })),
    el('div', { class: 'form-result', role: 'status' }),
  );
  return form;
}

/** Show errors by field name (others, and `''`, go to the form's own slot). */
export function showErrors(form, errors, general) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const f of form.querySelectorAll('.field')) f.classList.remove('invalid');
  const rest = [];
  for (const [name, msg] of Object.entries(errors)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = msg;
      slot.closest('.field').classList.add('invalid');
    } else rest.push(name ? `${name}: ${msg}` : msg);
  }
  form.querySelector('.form-error').textContent = [general, ...rest].filter(Boolean).join(' ');
  const first = form.querySelector('.field.invalid input, .field.invalid textarea, .field.invalid select');
  if (first) first.focus();
}

/** Read and check the form: { values } when it is valid, { errors } (by field) when not. HTML validity first, then the same checks in JS. */
export function readForm(form, fields) {
  const errors = {};
  const values = {};
  for (const f of fields) {
    const input = form.elements.namedItem(f.name);
    const raw = f.type === 'checkbox' ? input.checked : input.value;
    const err = !input.checkValidity() ? htmlMessage(f, input) : checkField(f, raw);
    if (err) errors[f.name] = err;
    else {
      const v = valueOf(f, raw);
      if (v !== undefined) values[f.name] = v;
    }
  }
  return Object.keys(errors).length ? { errors } : { values };
}

function htmlMessage(f, input) {
  if (input.validity.valueMissing) return t('v_required');
  if (input.validity.badInput || input.validity.rangeUnderflow || input.validity.stepMismatch) return f.type === 'int' ? t('v_intMin', { min: f.min ?? 0 }) : t('v_date');
  if (input.validity.tooLong) return t('v_maxLen', { max: f.max });
  return input.validationMessage;
}

/** The server's 400 issues by field: `body.attended` and `attended` both name the `attended` field. */
export function issuesByField(issues) {
  const out = {};
  for (const i of issues ?? []) {
    const name = String(i.path ?? '')
      .replace(/^body\.?/, '')
      .split('.')[0];
    out[name] = out[name] ? `${out[name]}; ${i.message}` : i.message;
  }
  return out;
}
