import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJson } from './support/http';
import { targets } from './support/targets';

const { local, services, dataDir } = targets();
const describeLocal = local ? describe : describe.skip;

describeLocal('secrets never reach the audit store (integration-controller, SQLite files on disk)', () => {
  it('keeps a sentinel sent in body fields, Authorization and Cookie out of every byte of the store', async () => {
    const sentinel = `sentinel${Date.now()}x`;
    const base = services['integration-controller'];
    const headers = { authorization: `Bearer ${sentinel}-auth`, cookie: `session=${sentinel}-cookie` };
    expect((await postJson(`${base}/auth/login`, { user_id: 'secret_user', password: `${sentinel}-password` }, headers)).status).toBe(401);
    expect((await postJson(`${base}/integrations`, { user_id: 'secret_user', provider: 'gmail', access_token: `${sentinel}-token` }, headers)).status).toBe(201);
    // An unknown field is rejected (400) and still audited: its value must be redacted too.
    expect((await postJson(`${base}/integrations`, { user_id: 'secret_user', provider: 'gmail', access_token: 'x', api_key: `${sentinel}-apikey` }, headers)).status).toBe(400);

    const files = ['audit.db', 'audit.db-wal'].map((f) => join(dataDir as string, 'integration-controller', f)).filter((f) => existsSync(f));
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.includes('secret_user')).toBe(true); // the events are there…
    expect(bytes.includes(sentinel)).toBe(false); // …their secrets are not
  });
});
