import type { AuditEvent, AuditResponse } from '@personai/contracts';
import { existsSync } from 'node:fs';
import { startDaemon } from './daemon';
import { getJson } from './http';
import { parseSamples } from './prom-text';
import { freePort } from './stack';

/** Debian's nats-server lives in /usr/sbin, which a non-login shell's PATH may lack. */
export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';

/** A nats-server with JetStream on free ports, its store in `dir` (kept across a stop and a start). */
export async function natsServer(dir: string): Promise<{ url: string; start: () => Promise<void>; stop: () => Promise<void> }> {
  const [port, monitor] = [await freePort(), await freePort()];
  let daemon: { stop: () => Promise<void> } | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    start: async () => {
      daemon = await startDaemon(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-sd', dir], `http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`);
    },
    stop: async () => daemon?.stop(),
  };
}

/** The value of a service's one sample of `name`, undefined when it has none (no reading yet). */
export async function metric(base: string, name: string): Promise<number | undefined> {
  return parseSamples(await fetch(`${base}/metrics`).then((r) => r.text())).find((s) => s.name === name)?.value;
}

/** Every audit event a store holds that matches `query` (all pages of GET /audit), oldest first. */
export async function storedEvents(base: string, query = ''): Promise<AuditResponse['events']> {
  const pages: AuditResponse['events'][] = [];
  let before: string | undefined;
  for (;;) {
    const page = (await getJson<AuditResponse>(`${base}/audit?limit=1000${query ? `&${query}` : ''}${before ? `&before=${before}` : ''}`)).body;
    pages.push(page.events);
    if (page.events.length < 1000) return pages.reverse().flat();
    before = page.events[0].id;
  }
}

/** Reads Server-Sent Events from `url` until `count` of them pass `keep`, or `timeoutMs` passes; then disconnects. */
export function readStream(url: string, count: number, keep: (e: AuditEvent) => boolean, headers: Record<string, string> = {}, timeoutMs = 30_000): { opened: Promise<void>; events: Promise<AuditEvent[]> } {
  const controller = new AbortController();
  const events: AuditEvent[] = [];
  let markOpen = (): void => undefined;
  const opened = new Promise<void>((resolve) => (markOpen = resolve));
  const done = (async () => {
    const res = await fetch(url, { headers, signal: controller.signal });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/event-stream')]);
    markOpen();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const deadline = setTimeout(() => controller.abort(), timeoutMs);
    try {
      while (events.length < count) {
        const { value, done: ended } = await reader.read();
        if (ended) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!id || !data) continue;
          const event = JSON.parse(data) as AuditEvent;
          expect(event.id).toBe(id);
          if (keep(event)) events.push(event);
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    } finally {
      clearTimeout(deadline);
      controller.abort();
    }
  })();
  return { opened, events: done.then(() => events) };
}
