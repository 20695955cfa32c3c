/**
 * The benchmark's arithmetic and its table: pure, so test/bench/ checks them without a stack.
 */

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(xs: ReadonlyArray<number>): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A measure taken side by side: each round's figure for trienkhai and for its baseline (the same unit, e.g. events/s). */
export interface Paired {
  name: string;
  unit: string;
  trienkhai: number[];
  baseline: number[];
  /** What the baseline is, in a few words. */
  baselineIs: string;
  goal: Goal;
}

/** `min`: the ratio should be at least `value`; `max`: at most; `about`: near it. */
export interface Goal {
  kind: 'min' | 'max' | 'about';
  value: number;
}

export interface RatioRow {
  name: string;
  unit: string;
  trienkhai: number;
  baseline: number;
  baselineIs: string;
  /** The median of the per-round ratios (each round's two sides ran back to back). */
  ratio: number;
  /** The smallest and largest per-round ratio. */
  range: [number, number];
  goal: Goal;
  met: boolean;
}

/** Per round trienkhai ÷ baseline, then medians: a round's two sides share the machine's mood, so their ratio is steadier than a ratio of medians. */
export function ratioRow(p: Paired): RatioRow {
  const ratios = p.trienkhai.map((t, i) => t / p.baseline[i]!).filter((r) => Number.isFinite(r));
  const ratio = median(ratios);
  return {
    name: p.name,
    unit: p.unit,
    trienkhai: median(p.trienkhai),
    baseline: median(p.baseline),
    baselineIs: p.baselineIs,
    ratio,
    range: ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : [NaN, NaN],
    goal: p.goal,
    met: meets(ratio, p.goal),
  };
}

/** `about` allows 25% either side. */
export function meets(ratio: number, goal: Goal): boolean {
  if (!Number.isFinite(ratio)) return false;
  if (goal.kind === 'min') return ratio >= goal.value;
  if (goal.kind === 'max') return ratio <= goal.value;
  return Math.abs(ratio - goal.value) <= goal.value * 0.25;
}

export function goalText(g: Goal): string {
  return `${g.kind === 'min' ? '≥' : g.kind === 'max' ? '≤' : '≈'} ${g.value}`;
}

/** A number with three significant digits (and no exponent for large ones). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(3)).toString();
}

/** The ratio table as aligned plain text. */
export function formatTable(rows: ReadonlyArray<RatioRow>): string {
  const head = ['measure', 'trienkhai', 'baseline', 'ratio', 'range', 'goal', ''];
  const body = rows.map((r) => [
    r.name,
    `${fmt(r.trienkhai)} ${r.unit}`,
    `${fmt(r.baseline)} (${r.baselineIs})`,
    fmt(r.ratio),
    `${fmt(r.range[0])}–${fmt(r.range[1])}`,
    goalText(r.goal),
    r.met ? 'met' : 'NOT met',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export interface Sample {
  t: number;
  rss: number;
  heap: number;
  cached: number;
}

/**
 * Growth per cached workflow between the first sample with at least a fifth of the final cache and the
 * last: the slope leaves out what a worker costs before its first workflow (its thread, the bundle).
 */
export function perCached(samples: ReadonlyArray<Sample>, key: 'rss' | 'heap'): number {
  const last = samples[samples.length - 1];
  if (!last) return NaN;
  const from = samples.find((s) => s.cached >= last.cached / 5);
  if (!from || last.cached - from.cached <= 0) return NaN;
  return (last[key] - from[key]) / (last.cached - from.cached) / 2 ** 20;
}
