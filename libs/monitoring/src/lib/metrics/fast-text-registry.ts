import { Registry } from 'prom-client';

/** One series line as a metric's `get()` (or a histogram's `getForPromString()`) gives it. */
interface SeriesValue {
  value: number;
  labels?: Record<string, string | number>;
  /** A histogram's series labels, the same object for each of its bucket, sum and count lines. */
  sharedLabels?: Record<string, string | number>;
  metricName?: string;
  exemplar?: { labelSet: Record<string, string | number>; value: number; timestamp: number } | null;
}

interface MetricData {
  name: string;
  help: string;
  type: string;
  values?: SeriesValue[];
}

interface Serializable {
  get(): Promise<MetricData> | MetricData;
  getForPromString?: () => Promise<MetricData> | MetricData;
}

/** What prom-client escapes: backslash and newline in names and help; and the double quote in label values. */
const HELP_SPECIALS = /[\\\n]/;
const LABEL_SPECIALS = /[\\\n"]/;

function escapeHelp(text: string): string {
  return HELP_SPECIALS.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : text;
}

function labelValue(value: string | number): string | number {
  if (typeof value !== 'string' || !LABEL_SPECIALS.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

function formatPairs(labels: Record<string, string | number>): string {
  let out = '';
  for (const name in labels) {
    if (!Object.prototype.hasOwnProperty.call(labels, name)) continue;
    out += `${out ? ',' : ''}${name}="${labelValue(labels[name])}"`;
  }
  return out;
}

/**
 * prom-client's Registry with a cheaper text serializer; the bytes are prom-client's own (a spec compares
 * them with `Registry.prototype.getMetricsAsString` on every metric type, default labels, escaping,
 * exemplars and OpenMetrics). prom-client 15 builds each line from a merged copy of its labels and the
 * default labels (an object spread per line), runs three regular-expression replaces on every label value,
 * and flattens a counter's or gauge's shared labels through a WeakMap keyed by an empty object made for that
 * line: half of a scrape's CPU in a profile of integration-controller, and most of its garbage. Here a line
 * is written straight into its string, a value is escaped only when it holds a character that needs it, the
 * default labels are formatted once per family, and a histogram's shared labels once per series object (kept
 * across scrapes, as prom-client keeps them). Only `getMetricsAsString` is replaced: collection, `metrics()`, JSON output and
 * registration stay prom-client's.
 */
export class FastTextRegistry extends Registry {
  private readonly sharedPairs = new WeakMap<object, string>();

  /** Called by prom-client's `metrics()` for each metric, as its own method would be. */
  async getMetricsAsString(metric: Serializable): Promise<string> {
    const data = typeof metric.getForPromString === 'function' ? await metric.getForPromString() : await metric.get();
    const name = escapeHelp(data.name);
    let out = `# HELP ${name} ${escapeHelp(data.help)}\n# TYPE ${name} ${data.type}`;
    // prom-client keeps the default labels in this field (setDefaultLabels, clear) and has no getter for them.
    const defaults = (this as unknown as { _defaultLabels: Record<string, string | number> })._defaultLabels;
    const defaultNames = Object.keys(defaults);
    // Formatted once per family, not once per line.
    const defaultPairs = defaultNames.map((label) => `${label}="${labelValue(defaults[label])}"`);
    const openMetrics = (this.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE;
    for (const val of data.values ?? []) {
      let metricName = val.metricName === undefined ? name : val.metricName;
      if (openMetrics && data.type === 'counter') metricName = `${metricName}_total`;
      const labels = val.labels === undefined ? {} : val.labels;
      const shared = val.sharedLabels;
      let pairs = '';
      // prom-client's order: the line's own labels, then the default labels it does not set; none of them a shared one.
      for (const label in labels) {
        if (!Object.prototype.hasOwnProperty.call(labels, label) || (shared && Object.prototype.hasOwnProperty.call(shared, label))) continue;
        pairs += `${pairs ? ',' : ''}${label}="${labelValue(labels[label])}"`;
      }
      for (let i = 0; i < defaultNames.length; i += 1) {
        const label = defaultNames[i];
        if (Object.prototype.hasOwnProperty.call(labels, label) || (shared && Object.prototype.hasOwnProperty.call(shared, label))) continue;
        pairs += `${pairs ? ',' : ''}${defaultPairs[i]}`;
      }
      if (shared) {
        let flat = this.sharedPairs.get(shared);
        if (flat === undefined) this.sharedPairs.set(shared, (flat = formatPairs(shared)));
        if (flat) pairs += `${pairs ? ',' : ''}${flat}`;
      }
      out += `\n${metricName}${pairs ? `{${pairs}}` : ''} ${sampleValue(val.value)}`;
      const exemplar = val.exemplar;
      if (exemplar && openMetrics) out += ` # {${formatPairs(exemplar.labelSet)}} ${sampleValue(exemplar.value)} ${exemplar.timestamp}`;
    }
    return out;
  }
}
