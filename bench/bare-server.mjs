// The reference of `npm run bench`: a bare node:http server answering the same small JSON as the
// services' cheap route, with the same content type. Nothing else: the physical limit of this machine.
import { createServer } from 'node:http';

const body = JSON.stringify({ integrations: [] });
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
