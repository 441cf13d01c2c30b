import Fastify, { FastifyInstance, FastifyReply } from 'fastify';
import { API_SECURITY_HEADERS } from '../http/security-headers';
import { addResponseHeaders, setAnswerHeaders } from './service-app';

/** The headers of real answers over HTTP, one per path, without those Node adds to every answer. */
async function answerHeaders(app: FastifyInstance, ...paths: string[]): Promise<Record<string, string>[]> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const answers = [];
  for (const path of paths) {
    const res = await fetch(`${address}${path}`);
    await res.arrayBuffer();
    const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = Object.fromEntries(res.headers);
    answers.push(rest);
  }
  return answers;
}

describe('answer headers', () => {
  const apps: FastifyInstance[] = [];
  const app = () => {
    const made = Fastify({ genReqId: () => 'req-1' });
    apps.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it("sets the API's security headers and the request id as one object, which Fastify's own methods then read and change", async () => {
    const fastify = app();
    addResponseHeaders(fastify);
    const seen: unknown[] = [];
    fastify.get('/cached', (_request, reply) => {
      seen.push(reply.getHeader('x-frame-options'), reply.hasHeader('x-request-id'));
      reply.header('Cache-Control', 'max-age=5');
      reply.removeHeader('x-content-type-options');
      return { ok: true };
    });
    const [headers] = await answerHeaders(fastify, '/cached');
    const { 'x-content-type-options': _removed, ...kept } = API_SECURITY_HEADERS;
    expect(headers).toEqual({ ...kept, 'cache-control': 'max-age=5', 'x-request-id': 'req-1', 'content-type': 'application/json; charset=utf-8', 'content-length': '11' });
    expect(seen).toEqual(['DENY', true]);
  });

  it("takes the one-object path on a reply without headers, Fastify's header() on a reply that has one, with the same answer", async () => {
    const fastify = app();
    const calls: Record<string, number> = {};
    const route = (path: string, before?: (reply: FastifyReply) => void) =>
      fastify.get(path, (_request, reply) => {
        before?.(reply);
        const headers = jest.spyOn(reply, 'headers');
        setAnswerHeaders(reply, API_SECURITY_HEADERS, 'req-2');
        calls[path] = headers.mock.calls.length;
        return {};
      });
    route('/empty');
    route('/set', (reply) => reply.header('x-custom', 'yes'));
    const [empty, withCustom] = await answerHeaders(fastify, '/empty', '/set');
    expect(calls).toEqual({ '/empty': 0, '/set': 1 });
    const expected = { ...API_SECURITY_HEADERS, 'x-request-id': 'req-2', 'content-type': 'application/json; charset=utf-8', 'content-length': '2' };
    expect(empty).toEqual(expected);
    expect(withCustom).toEqual({ ...expected, 'x-custom': 'yes' });
  });
});
