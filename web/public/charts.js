// Hand-made inline SVG charts (no libraries, no network): horizontal bars, stacked bars, a line.
// Each returns SVG markup; every value is also written as text, so the charts read without colour.

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const W = 640;
const LABEL = 110;
const ROW = 30;
const BAR = 18;
const TEXT = 250;

/** One bar per row, `value` of `max` (a share when max = 1). rows: [{ key, label, value, max, text }] */
export function barChart(rows, { title, cls = 'bar-a' } = {}) {
  const h = rows.length * ROW + 8;
  const span = W - LABEL - TEXT;
  const body = rows
    .map((r, i) => {
      const y = i * ROW + 4;
      const w = r.max > 0 ? Math.max(0, Math.min(1, r.value / r.max)) * span : 0;
      return `<g class="row" data-key="${esc(r.key)}" data-value="${esc(r.value)}" data-max="${esc(r.max)}">
  <text x="${LABEL - 8}" y="${y + BAR - 4}" text-anchor="end" class="axis-label">${esc(r.label)}</text>
  <rect x="${LABEL}" y="${y}" width="${span}" height="${BAR}" class="track"/>
  <rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" class="${cls}"><title>${esc(r.label)}: ${esc(r.text)}</title></rect>
  <text x="${LABEL + span + 8}" y="${y + BAR - 4}" class="value small">${esc(r.text)}</text>
</g>`;
    })
    .join('\n');
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${esc(title)}" class="chart">${body}</svg>`;
}

/** Stacked bars: rows: [{ key, label, segments: [{ key, value, cls, label }] }]; each row is scaled to its own total. */
export function stackedBars(rows, { title } = {}) {
  const h = rows.length * ROW + 8;
  const span = W - LABEL - TEXT;
  const body = rows
    .map((r, i) => {
      const y = i * ROW + 4;
      const total = r.segments.reduce((a, s) => a + s.value, 0);
      let x = LABEL;
      const segs = r.segments
        .filter((s) => s.value > 0)
        .map((s) => {
          const w = total ? (s.value / total) * span : 0;
          const out = `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" class="${s.cls}" data-segment="${esc(s.key)}" data-value="${s.value}"><title>${esc(r.label)}: ${esc(s.label)} ${s.value}</title></rect>`;
          x += w;
          return out;
        })
        .join('');
      const text = r.segments
        .filter((s) => s.value > 0)
        .map((s) => `${s.value} ${s.label}`)
        .join(' · ');
      return `<g class="row" data-key="${esc(r.key)}">
  <text x="${LABEL - 8}" y="${y + BAR - 4}" text-anchor="end" class="axis-label">${esc(r.label)}</text>
  <rect x="${LABEL}" y="${y}" width="${span}" height="${BAR}" class="track"/>${segs}
  <text x="${LABEL + span + 8}" y="${y + BAR - 4}" class="value small">${esc(text || '—')}</text>
</g>`;
    })
    .join('\n');
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${esc(title)}" class="chart">${body}</svg>`;
}

/** A step line of counts over time: points [{ at (ISO), open }]; `fmt` labels an instant. */
export function lineChart(points, { title, fmt }) {
  const H = 180;
  const pad = { l: 40, r: 16, t: 12, b: 28 };
  const t0 = Date.parse(points[0].at);
  const t1 = Math.max(t0 + 1, Date.parse(points[points.length - 1].at));
  const max = Math.max(1, ...points.map((p) => p.open));
  const X = (at) => pad.l + ((Date.parse(at) - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const Y = (v) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  let d = '';
  points.forEach((p, i) => {
    d += i === 0 ? `M${X(p.at).toFixed(1)},${Y(p.open).toFixed(1)}` : `H${X(p.at).toFixed(1)}V${Y(p.open).toFixed(1)}`;
  });
  const area = `${d}V${Y(0).toFixed(1)}H${X(points[0].at).toFixed(1)}Z`;
  const last = points[points.length - 1];
  const ticks = [0, Math.round(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  const dots = points
    .map(
      (p) => `<circle cx="${X(p.at).toFixed(1)}" cy="${Y(p.open).toFixed(1)}" r="2.5" class="dot" data-at="${esc(p.at)}" data-value="${p.open}"><title>${esc(fmt(p.at))}: ${p.open}</title></circle>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}" class="chart line">
  ${ticks.map((v) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${Y(v)}" y2="${Y(v)}" class="grid"/><text x="${pad.l - 6}" y="${Y(v) + 4}" text-anchor="end" class="axis-label">${v}</text>`).join('')}
  <path d="${area}" class="area"/><path d="${d}" class="stroke"/>${dots}
  <text x="${pad.l}" y="${H - 8}" class="axis-label">${esc(fmt(points[0].at))}</text>
  <text x="${W - pad.r}" y="${H - 8}" text-anchor="end" class="axis-label">${esc(fmt(last.at))}</text>
  <text x="${W - pad.r}" y="${Y(last.open) - 6}" text-anchor="end" class="value last-value" data-value="${last.open}">${last.open}</text>
</svg>`;
}
