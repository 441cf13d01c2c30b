import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { Notified, startAlertmanager, startWebhookReceiver } from './alertmanager';
import { eventually } from './http';
import { startPrometheus } from './prometheus-server';

/** How Alertmanager routes in a pipeline: one test receiver (the webhook), grouped by these labels, sent at once. */
export interface TestRoute {
  groupBy: string[];
  /** Child routes (a route may name the receiver `nowhere`, which notifies no one). */
  routes?: unknown[];
  inhibitRules?: unknown[];
}

/** Alertmanager's configuration for a test route: group_wait and group_interval 1s, resolutions sent. */
export function testRouteConfig(webhook: string, route: TestRoute): string {
  return stringify({
    route: { receiver: 'test', group_by: route.groupBy, group_wait: '1s', group_interval: '1s', repeat_interval: '1h', ...(route.routes ? { routes: route.routes } : {}) },
    ...(route.inhibitRules ? { inhibit_rules: route.inhibitRules } : {}),
    receivers: [{ name: 'test', webhook_configs: [{ url: webhook, send_resolved: true }] }, ...(route.routes ? [{ name: 'nowhere' }] : [])],
  });
}

export interface AlertingPipeline {
  /** Every alert of every notification the webhook received, in order. */
  received: Notified[];
  alertmanager: Awaited<ReturnType<typeof startAlertmanager>>;
  prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  /** The webhook's URL (for an Alertmanager configuration given to `alertmanager.reload`). */
  webhook: string;
  /** Waits until Prometheus has scraped every target of the job up. */
  scraped: (timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * What every alert e2e needs to see a rule page: a webhook receiver in the test, a real Alertmanager routing to it
 * (a TestRoute, or a configuration text for the webhook), and a real Prometheus evaluating `rules` (file name in
 * `dir` to its text, usually compressedRules) every second, scraping `targets` (host:port) as `job` every second and
 * re-sending firing alerts every second (the first send can precede Alertmanager's discovery). All in `dir`; `stop`
 * stops them, Prometheus first.
 */
export async function startAlertingPipeline(
  dir: string,
  options: { job: string; targets: string[]; rules: Record<string, string>; alertmanager: TestRoute | ((webhook: string) => string) },
): Promise<AlertingPipeline> {
  const receiver = await startWebhookReceiver();
  const stops: (() => Promise<void>)[] = [receiver.stop];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const config = typeof options.alertmanager === 'function' ? options.alertmanager(receiver.url) : testRouteConfig(receiver.url, options.alertmanager);
    const alertmanager = await startAlertmanager(dir, config);
    stops.push(alertmanager.stop);
    for (const [file, text] of Object.entries(options.rules)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const prometheus = await startPrometheus(
      dir,
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: Object.keys(options.rules),
        alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager.url).host] }] }] },
        scrape_configs: [{ job_name: options.job, static_configs: [{ targets: options.targets }] }],
      }),
      ['--rules.alert.resend-delay=1s'],
    );
    stops.push(prometheus.stop);
    const scraped = async (timeoutMs = 20_000) => {
      await eventually(`Prometheus to scrape ${options.targets.length} target(s) of ${options.job} up`, async () => ((await prometheus.query(`up{job="${options.job}"} == 1`)).length === options.targets.length ? true : undefined), timeoutMs);
    };
    return { received: receiver.received, alertmanager, prometheus, webhook: receiver.url, scraped, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
