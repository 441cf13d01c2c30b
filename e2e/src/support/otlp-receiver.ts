import { createServer, Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One span as the receiver decoded it from OTLP/HTTP JSON (ids as lowercase hex). */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  status: { code: number; message: string };
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

const attributes = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue]));
/** OTLP JSON ids are hex; a base64 id (the protobuf JSON mapping) is converted. */
const hex = (id: string | undefined) => (!id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

/**
 * An OTLP/HTTP trace receiver for tests (`POST /v1/traces`, JSON): it decodes every export request span
 * by span. `failWith` makes it answer an error instead (a collector that refuses).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  requests = 0;
  failWith?: number;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests += 1;
        if (this.failWith) return void res.writeHead(this.failWith).end();
        if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (!(req.headers['content-type'] ?? '').includes('json')) return void res.writeHead(415).end(); // the tests ask for http/json
        const payload = JSON.parse(body.toString('utf8')) as { resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
        for (const rs of payload.resourceSpans ?? []) {
          const service = String(attributes(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              this.spans.push({
                service,
                traceId: hex(s['traceId'] as string),
                spanId: hex(s['spanId'] as string),
                parentSpanId: hex(s['parentSpanId'] as string | undefined),
                name: s['name'] as string,
                kind: Number(s['kind']),
                status: { code: Number((s['status'] as { code?: number } | undefined)?.code ?? 0), message: (s['status'] as { message?: string } | undefined)?.message ?? '' },
                attributes: attributes(s['attributes'] as OtlpAttribute[]),
                events: ((s['events'] as { name: string; attributes?: OtlpAttribute[] }[]) ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
                links: ((s['links'] as { traceId: string; spanId: string }[]) ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
