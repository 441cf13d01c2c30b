import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onFreePort, startDaemon } from './daemon';

/** One alert as Alertmanager's webhook sends it. */
export interface Notified {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string;
  /** When the receiver got it (ms since the epoch). */
  receivedAt: number;
}

/** A webhook receiver in the test: every alert of every notification Alertmanager posts, in order. */
export async function startWebhookReceiver(): Promise<{ url: string; received: Notified[]; stop: () => Promise<void> }> {
  const received: Notified[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const payload = JSON.parse(body) as { alerts: Omit<Notified, 'receivedAt'>[] };
      for (const a of payload.alerts) received.push({ ...a, receivedAt: Date.now() });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received, stop: () => new Promise((r) => server.close(() => r())) };
}

/** A real Alertmanager (Debian's prometheus-alertmanager) on a free port, clustering off, with `config` in `dir`. */
export async function startAlertmanager(dir: string, config: string): Promise<{ url: string; reload: (config: string) => Promise<void>; stop: () => Promise<void> }> {
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, config);
  const { url, stop } = await onFreePort(async (port) => {
    const url = `http://127.0.0.1:${port}`;
    return { url, ...(await startDaemon('prometheus-alertmanager', [`--config.file=${file}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], `${url}/-/ready`)) };
  });
  return {
    url,
    reload: async (next) => {
      writeFileSync(file, next);
      const res = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!res.ok) throw new Error(`Alertmanager refused the configuration: ${await res.text()}`);
    },
    stop,
  };
}
