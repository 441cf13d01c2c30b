import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROMETHEUS_DIR } from '@personai/tools/observability';
import { onFreePort, startDaemon } from './daemon';

/** One instant-query result of the HTTP API. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus (Debian's package) on a free port, with `config` as its prometheus.yml in `dir`. */
export async function startPrometheus(dir: string, config: string, flags: string[] = []): Promise<{ api: string; query: (q: string) => Promise<PromSample[]>; stop: () => Promise<void> }> {
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const { api, stop } = await onFreePort(async (port) => {
    const api = `http://127.0.0.1:${port}`;
    return { api, ...(await startDaemon('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...flags], `${api}/-/ready`)) };
  });
  const query = async (q: string) => ((await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: PromSample[] } }).data.result;
  return { api, query, stop };
}

/**
 * A rule file of deploy/prometheus/rules with time compressed for a test: every minute of a `for`, a range
 * or an interval becomes a second, every hour of a range a minute (a day, 24 minutes), so the test sees in
 * seconds what production sees in minutes; the thresholds are unchanged.
 */
export function compressedRules(file: string): string {
  return readFileSync(join(PROMETHEUS_DIR, 'rules', file), 'utf8')
    .replace(/for: (\d+)m/g, 'for: $1s')
    .replace(/\[(\d+)m\]/g, '[$1s]')
    .replace(/\[(\d+)h\]/g, '[$1m]')
    .replace(/\[(\d+)d\]/g, (_m, d: string) => `[${Number(d) * 24}m]`)
    .replace(/interval: 30s/g, 'interval: 1s');
}
