// Prometheus metrics, the text exposition format (version 0.0.4) and nothing else: counters, gauges and
// histograms with fixed label names, each family bounded in how many label sets it keeps (a label set
// beyond the bound is counted in ipfo_metrics_series_dropped_total, not kept: a hostile or runaway input
// must not grow the agent's memory or the scraper's). Pure: values in, text out; whoever owns the
// registry decides when things are counted and what is read at scrape time (`collect`).

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type LabelValues = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Label sets a family keeps unless told otherwise. */
export const DEFAULT_MAX_SERIES = 1_000;

export interface FamilyOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Most label sets kept (default DEFAULT_MAX_SERIES). */
  maxSeries?: number;
}

/** One sample a collector reports at scrape time. */
export interface Sample {
  labels?: LabelValues;
  value: number;
}

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format wants it (Go's ParseFloat reads JavaScript's number text, and these three words). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly maxSeries: number;

  constructor(options: FamilyOptions, protected readonly onDropped: (count: number) => void) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`metric name ${JSON.stringify(options.name)} is not valid`);
    const labelNames = options.labelNames ?? [];
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`${options.name}: label name ${JSON.stringify(label)} is not valid`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`${options.name}: a label name is given twice`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = labelNames;
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  abstract readonly type: MetricType;

  /** The label values in the family's order; throws on a missing or unknown label (a programming error). */
  protected valuesOf(labels: LabelValues | undefined): string[] {
    const given = labels ?? {};
    const keys = Object.keys(given);
    if (keys.length !== this.labelNames.length || keys.some((k) => !this.labelNames.includes(k))) {
      throw new Error(`${this.name}: labels ${JSON.stringify(keys)} are not ${JSON.stringify(this.labelNames)}`);
    }
    return this.labelNames.map((name) => given[name]!);
  }

  /** Whether a new label set may be added to a map holding `size`; counts the refusal. */
  protected admit(size: number): boolean {
    if (size < this.maxSeries) return true;
    this.onDropped(1);
    return false;
  }

  header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract lines(): string;
}

const KEY_SEPARATOR = '\u0000';

/** A value per label set that only goes up (restarts at 0 with the process: Prometheus's rate() knows). */
export class Counter extends Family {
  readonly type = 'counter';
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  inc(labels?: LabelValues, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new Error(`${this.name}: a counter goes up by a finite amount, not ${by}`);
    const values = this.valuesOf(labels);
    const key = values.join(KEY_SEPARATOR);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else if (this.admit(this.values.size)) this.values.set(key, { labels: values, value: by });
  }

  /**
   * Shows a label set at 0 before anything is counted: Prometheus's increase() needs a sample from before
   * the first event, or an alert on the first conflict never fires.
   */
  init(labels?: LabelValues): this {
    this.inc(labels, 0);
    return this;
  }

  /** The current value (0 for a label set never counted). */
  get(labels?: LabelValues): number {
    return this.values.get(this.valuesOf(labels).join(KEY_SEPARATOR))?.value ?? 0;
  }

  lines(): string {
    let text = '';
    for (const { labels, value } of this.values.values()) text += `${this.name}${labelText(this.labelNames, labels)} ${formatValue(value)}\n`;
    return text;
  }
}

/**
 * Values read at scrape time from `collect`: a gauge (the state of things), or a counter whose source
 * keeps its own total (the kernel's, the process's CPU time). Bounded like the others: each scrape counts
 * the label sets it left out.
 */
export class Collected extends Family {
  constructor(
    options: FamilyOptions,
    onDropped: (count: number) => void,
    readonly type: 'gauge' | 'counter',
    private readonly collect: () => Iterable<Sample>,
  ) {
    super(options, onDropped);
  }

  lines(): string {
    let text = '';
    let count = 0;
    let dropped = 0;
    for (const sample of this.collect()) {
      // Past the bound the rest are only counted, and told once: a scrape of 100,000 resources made 90,000 counter updates.
      if (count >= this.maxSeries) {
        dropped++;
        continue;
      }
      count++;
      text += `${this.name}${labelText(this.labelNames, this.valuesOf(sample.labels))} ${formatValue(sample.value)}\n`;
    }
    if (dropped > 0) this.onDropped(dropped);
    return text;
  }
}

/** Observations counted into fixed buckets (upper bounds, ascending), with their sum and count. */
export class Histogram extends Family {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  private readonly series = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();

  constructor(options: FamilyOptions & { buckets: readonly number[] }, onDropped: (count: number) => void) {
    super(options, onDropped);
    if (this.labelNames.includes('le')) throw new Error(`${this.name}: "le" is the histogram's own label`);
    const { buckets } = options;
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) throw new Error(`${this.name}: buckets must be finite and ascending`);
    this.buckets = buckets;
  }

  observe(value: number, labels?: LabelValues): void {
    if (!Number.isFinite(value)) return;
    const values = this.valuesOf(labels);
    const key = values.join(KEY_SEPARATOR);
    let entry = this.series.get(key);
    if (!entry) {
      if (!this.admit(this.series.size)) return;
      this.series.set(key, (entry = { labels: values, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]!++;
    entry.sum += value;
    entry.count++;
  }

  /** Shows a label set with no observations yet (as Counter.init). */
  init(labels?: LabelValues): this {
    const values = this.valuesOf(labels);
    const key = values.join(KEY_SEPARATOR);
    if (!this.series.has(key) && this.admit(this.series.size)) this.series.set(key, { labels: values, counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    return this;
  }

  /** Observations so far for a label set. */
  count(labels?: LabelValues): number {
    return this.series.get(this.valuesOf(labels).join(KEY_SEPARATOR))?.count ?? 0;
  }

  lines(): string {
    let text = '';
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        text += `${this.name}_bucket${labelText(this.labelNames, labels, ['le', formatValue(bound)])} ${counts[i]}\n`;
      });
      text += `${this.name}_bucket${labelText(this.labelNames, labels, ['le', '+Inf'])} ${count}\n`;
      text += `${this.name}_sum${labelText(this.labelNames, labels)} ${formatValue(sum)}\n`;
      text += `${this.name}_count${labelText(this.labelNames, labels)} ${count}\n`;
    }
    return text;
  }
}

/** The metrics of one process, in registration order. */
export class Registry {
  private readonly families = new Map<string, Family>();
  private readonly dropped: Counter;

  constructor() {
    this.dropped = this.counter({ name: 'ipfo_metrics_series_dropped_total', help: 'Label sets not kept because their family reached its bound.', labelNames: ['metric'], maxSeries: 10_000 });
  }

  private add<F extends Family>(family: F): F {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.families.set(family.name, family);
    return family;
  }

  private droppedFor(name: string): (count: number) => void {
    return (count) => this.dropped.inc({ metric: name }, count);
  }

  counter(options: FamilyOptions): Counter {
    if (!options.name.endsWith('_total')) throw new Error(`counter ${options.name} must end in _total`);
    return this.add(new Counter(options, this.droppedFor(options.name)));
  }

  gauge(options: FamilyOptions, collect: () => Iterable<Sample>): Collected {
    return this.add(new Collected(options, this.droppedFor(options.name), 'gauge', collect));
  }

  /** A counter read from a source that keeps the total itself. */
  collectedCounter(options: FamilyOptions, collect: () => Iterable<Sample>): Collected {
    if (!options.name.endsWith('_total')) throw new Error(`counter ${options.name} must end in _total`);
    return this.add(new Collected(options, this.droppedFor(options.name), 'counter', collect));
  }

  histogram(options: FamilyOptions & { buckets: readonly number[] }): Histogram {
    return this.add(new Histogram(options, this.droppedFor(options.name)));
  }

  /** Every family, as the text format (a family without samples still says what it is); the dropped count last, as this scrape left it. */
  render(): string {
    let text = '';
    for (const family of this.families.values()) if (family !== this.dropped) text += family.header() + family.lines();
    return text + this.dropped.header() + this.dropped.lines();
  }
}

/** The content type of render()'s text. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
