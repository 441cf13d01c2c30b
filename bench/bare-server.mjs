// The reference of `npm run bench`: a bare node:http server answering the same small JSON as the
// services' cheap route, with the same content type. Nothing else: the physical limit of this machine.
// With BARE_BODY_FILE (and BARE_CONTENT_TYPE) it answers those bytes instead: the same answer as a
// service's /metrics, served by nothing but node:http.
// With BARE_HEADERS (a JSON object) it also sends those headers, and with BARE_REQUEST_ID=1 a fresh
// `x-request-id` per answer: the service's answer headers, priced on their own (the lean bench).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = process.env.BARE_BODY_FILE ? readFileSync(process.env.BARE_BODY_FILE) : Buffer.from(JSON.stringify({ integrations: [] }));
const headers = { 'content-type': process.env.BARE_CONTENT_TYPE ?? 'application/json; charset=utf-8', 'content-length': body.length, ...JSON.parse(process.env.BARE_HEADERS ?? '{}') };
const requestId = process.env.BARE_REQUEST_ID === '1';
createServer((req, res) => {
  req.resume();
  res.writeHead(200, requestId ? { ...headers, 'x-request-id': randomUUID() } : headers);
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
