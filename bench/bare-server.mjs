// The reference of `npm run bench`: a bare node:http server answering the same small JSON as the
// services' cheap route, with the same content type. Nothing else: the physical limit of this machine.
// With BARE_BODY_FILE (and BARE_CONTENT_TYPE) it answers those bytes instead: the same answer as a
// service's /metrics, served by nothing but node:http.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = process.env.BARE_BODY_FILE ? readFileSync(process.env.BARE_BODY_FILE) : Buffer.from(JSON.stringify({ integrations: [] }));
const headers = { 'content-type': process.env.BARE_CONTENT_TYPE ?? 'application/json; charset=utf-8', 'content-length': body.length };
createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
