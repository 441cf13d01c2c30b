import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { briefCheck, CheckContext } from './checks';

/** An integration-controller stand-in: POST /briefs then GET /briefs/:id as `answers` says, counting the posts. */
function stub(answers: { post: number; states: { status: string; error?: string; steps?: { name: string; status: string; error?: string }[] }[] }): Promise<{ server: Server; url: string; posts: { body: string; headers: IncomingMessage['headers'] }[] }> {
  const posts: { body: string; headers: IncomingMessage['headers'] }[] = [];
  let polls = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/briefs') {
        posts.push({ body, headers: req.headers });
        res.statusCode = answers.post;
        return void res.end(JSON.stringify(answers.post === 202 ? { id: 'brief_1', status: 'queued' } : { statusCode: answers.post, error: 'x', message: 'x' }));
      }
      if (req.url === '/briefs/brief_1') return void res.end(JSON.stringify({ id: 'brief_1', ...answers.states[Math.min(polls++, answers.states.length - 1)] }));
      res.statusCode = 404;
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts })));
}

const ctx = (url: string, briefTimeoutMs = 5000): CheckContext => ({ target: { name: 'integration-controller', url }, signal: new AbortController().signal, healthBudgetMs: 500, briefUser: 'probe', briefChannel: 'email', briefTimeoutMs });

describe('the synthetic brief check', () => {
  it('posts one brief in the probe account, with an Idempotency-Key, and passes once it completes', async () => {
    const s = await stub({ post: 202, states: [{ status: 'queued' }, { status: 'running' }, { status: 'completed' }] });
    try {
      await expect(briefCheck(ctx(s.url))).resolves.toBeUndefined();
      expect(s.posts.map((p) => JSON.parse(p.body))).toEqual([{ user_id: 'probe', channels: ['email'] }]);
      expect(s.posts[0].headers['idempotency-key']).toMatch(/^probe-/);
    } finally {
      s.server.close();
    }
  });

  it('fails naming the failed step and its reason', async () => {
    const s = await stub({ post: 202, states: [{ status: 'failed', steps: [{ name: 'collect:gmail', status: 'skipped' }, { name: 'deliver:email', status: 'failed', error: 'HTTP 503' }] }] });
    try {
      await expect(briefCheck(ctx(s.url))).rejects.toThrow('brief failed: deliver:email: HTTP 503');
    } finally {
      s.server.close();
    }
  });

  it('fails when the brief is refused, and when it does not finish in time', async () => {
    const refused = await stub({ post: 503, states: [] });
    const stuck = await stub({ post: 202, states: [{ status: 'running' }] });
    try {
      await expect(briefCheck(ctx(refused.url))).rejects.toThrow('POST /briefs answered 503');
      await expect(briefCheck(ctx(stuck.url, 600))).rejects.toThrow('brief still running after 600 ms');
    } finally {
      refused.server.close();
      stuck.server.close();
    }
  });
});
