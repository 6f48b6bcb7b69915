/**
 * What every benchmark reports: named figures with a unit, a target and whether it is met, plus the
 * statistics they are made of. Every figure is a median over repeated runs.
 */

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** A comparison and a bound, e.g. `"<= 400"`; empty for a figure printed for reference. */
  readonly target: string;
  /** Absent for a figure printed for reference. */
  readonly met?: boolean;
}

/** A figure held to a target. Targets are set on what the machine's load cannot move: ratios measured side by side, counts, sizes, bounds with a wide margin. */
export function figure(name: string, value: number, unit: string, target: string): Figure {
  return { name, value: round(value), unit, target, met: meets(value, target) };
}

/**
 * A figure printed for reference, with no target: an absolute latency or rate, which moves with the
 * shared machine's load (issue 17: a target on it cannot tell a regression from noise). The ratio it
 * sits beside carries the target.
 */
export function reference(name: string, value: number, unit: string): Figure {
  return { name, value: round(value), unit, target: '' };
}

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 0.1 ? 2 : 3;
  return Number(value.toFixed(digits));
}

export function meets(value: number, target: string): boolean {
  const match = /^(<=|>=|<|>|=)\s*(-?[\d.]+)$/.exec(target.trim());
  if (!match) throw new Error(`unreadable target "${target}"`);
  const bound = Number(match[2]);
  switch (match[1]) {
    case '<=':
      return value <= bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '>':
      return value > bound;
    default:
      return value === bound;
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The median of each field over repeated runs. */
export function medians<K extends string>(runs: readonly Record<K, number>[]): Record<K, number> {
  const first = runs[0];
  if (!first) throw new Error('no runs');
  const out = {} as Record<K, number>;
  for (const key of Object.keys(first) as K[]) out[key] = median(runs.map((run) => run[key]));
  return out;
}

/** A check on the setting of a benchmark (not a figure): a benchmark that measures the wrong thing stops. */
export function assertBench(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark setup: ${message}`);
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.target || '(reference)',
    f.met === undefined ? '-' : f.met ? 'yes' : 'NO',
  ]);
  const header = ['figure', 'value', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
