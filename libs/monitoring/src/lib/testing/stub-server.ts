import { AddressInfo } from 'node:net';
import { createServer, IncomingHttpHeaders, ServerResponse } from 'node:http';

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers one request; by default 200 `{}`. Returning nothing leaves the request hanging (a partition). */
export type StubHandler = (req: StubRequest, res: ServerResponse) => void;

export interface StubServer {
  url: string;
  requests: StubRequest[];
  handle: (handler: StubHandler) => void;
  close: () => Promise<void>;
}

/** A real loopback HTTP server standing in for an upstream in unit specs; it records every request. */
export async function startStubServer(handler: StubHandler = (_req, res) => res.end('{}')): Promise<StubServer> {
  let current = handler;
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
      requests.push(recorded);
      res.setHeader('content-type', 'application/json');
      current(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    handle: (h) => (current = h),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
