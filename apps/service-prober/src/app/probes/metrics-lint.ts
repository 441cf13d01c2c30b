import { CORE_METRIC_FAMILIES } from '@personai/contracts';

const SUFFIXES = ['_bucket', '_sum', '_count', '_created', '_total', '_info'];

/**
 * The problems of a Prometheus text answer, as far as a prober can tell without promtool: every sample
 * belongs to a family with HELP and TYPE, carries the service label, and every core family is there.
 */
export function lintMetrics(text: string, service: string): string[] {
  const help = new Set<string>();
  const type = new Set<string>();
  const problems: string[] = [];
  const samples: { name: string; labels: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) help.add(line.split(' ')[2]);
    else if (line.startsWith('# TYPE ')) type.add(line.split(' ')[2]);
    else if (line.trim() && !line.startsWith('#')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+\S+/.exec(line);
      if (!m) problems.push(`unparsable line: ${line.slice(0, 80)}`);
      else samples.push({ name: m[1], labels: m[2] ?? '' });
    }
  }
  const family = (name: string) => (type.has(name) ? name : SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : '')).find((f) => f && type.has(f)));
  for (const s of samples) {
    const f = family(s.name);
    if (!f) problems.push(`${s.name} has no TYPE`);
    else if (!help.has(f)) problems.push(`${f} has no HELP`);
    if (!s.labels.includes(`service="${service}"`)) problems.push(`${s.name}${s.labels} lacks service="${service}"`);
  }
  for (const f of CORE_METRIC_FAMILIES) if (!type.has(f)) problems.push(`core family ${f} is missing`);
  return [...new Set(problems)];
}
