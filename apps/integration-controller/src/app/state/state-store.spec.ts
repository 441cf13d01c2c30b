import { freshDatabase } from '@personai/service-kit/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStateStore } from './postgres-state.store';
import { SqliteStateStore } from './sqlite-state.store';
import { StateStore, StoredBrief } from './state-store.interface';

interface Harness {
  /** A new connection to the same database, as another process or replica would open. */
  open: () => StateStore;
  cleanup: () => Promise<void>;
}

const brief = (id: string, user: string, created: string): StoredBrief => ({
  id, user_id: user, date: created.slice(0, 10), channels: ['sms'], status: 'queued', steps: [{ name: 'content', status: 'pending' }],
  created_at: created, updated_at: created, request_id: `r-${id}`, outputs: {}, trace_parent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`,
});

function describeStateStore(name: string, harness: () => Promise<Harness>): void {
  describe(`StateStore on ${name}`, () => {
    let h: Harness;
    let a: StateStore;
    let b: StateStore;
    beforeEach(async () => {
      h = await harness();
      a = h.open();
      b = h.open();
    });
    afterEach(async () => {
      await a.close();
      await b.close();
      await h.cleanup();
    });

    it('keeps one integration per user and provider (reconnecting keeps its id, replaces the token)', async () => {
      const first = await a.connectIntegration({ id: 'int_1', user_id: 'u', provider: 'gmail', status: 'connected', connected_at: '2026-01-01T00:00:00.000Z', token_ciphertext: 'c1' });
      const again = await b.connectIntegration({ id: 'int_2', user_id: 'u', provider: 'gmail', status: 'connected', connected_at: '2026-01-02T00:00:00.000Z', token_ciphertext: 'c2' });
      expect(again).toMatchObject({ id: first.id, token_ciphertext: 'c2', connected_at: '2026-01-02T00:00:00.000Z' });
      await a.connectIntegration({ id: 'int_3', user_id: 'u', provider: 'slack', status: 'connected', connected_at: '2026-01-03T00:00:00.000Z', token_ciphertext: 'c3' });
      expect((await b.listIntegrations('u')).map((i) => i.provider)).toEqual(['gmail', 'slack']);
      expect(await a.countIntegrations()).toEqual({ gmail: 1, slack: 1 });
      expect(await b.deleteIntegration('int_1')).toBe(true);
      expect(await a.deleteIntegration('int_1')).toBe(false);
      expect(await a.getIntegration('int_1')).toBeUndefined();
    });

    it('stores briefs with their steps and outputs, lists a user\'s newest first in pages, and finds unfinished ones', async () => {
      for (const [i, t] of ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z'].entries()) await a.insertBrief(brief(`brief_${i}`, 'u', t));
      await a.insertBrief(brief('brief_other', 'v', '2026-01-01T00:00:05.000Z'));
      const done = { ...(await b.getBrief('brief_1') as StoredBrief), status: 'completed' as const, outputs: { content: { id: 'c', text: 'ünïcode' } }, updated_at: '2026-01-01T00:01:00.000Z' };
      done.steps[0].status = 'completed';
      await b.saveBrief(done);
      expect(await a.getBrief('brief_1')).toEqual(done);
      const page1 = await a.listBriefs({ userId: 'u', limit: 2 });
      expect(page1.map((x) => x.id)).toEqual(['brief_3', 'brief_2']);
      const page2 = await a.listBriefs({ userId: 'u', limit: 2, before: { created_at: page1[1].created_at, id: page1[1].id } });
      expect(page2.map((x) => x.id)).toEqual(['brief_1', 'brief_0']);
      expect((await a.listBriefs({ userId: 'u', status: 'completed', limit: 10 })).map((x) => x.id)).toEqual(['brief_1']);
      expect(await a.unfinishedBriefs('2026-01-01T00:00:02.500Z', 10)).toEqual(expect.arrayContaining(['brief_0', 'brief_2']));
      expect(await a.unfinishedBriefs('2026-01-01T00:00:02.500Z', 10)).not.toContain('brief_1');
      await a.deleteBrief('brief_0');
      expect(await b.getBrief('brief_0')).toBeUndefined();
    });

    it('claims at most `concurrency` jobs across connections, even when they all claim at once', async () => {
      const now = Date.now();
      for (let i = 0; i < 8; i += 1) await a.insertBrief(brief(`brief_${i}`, 'u', new Date(now + i).toISOString()), { runAt: now + i });
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimJob(`owner-${i}`, now + 100, 10_000, 3)));
      expect(claims.filter(Boolean)).toHaveLength(3);
      expect(new Set(claims.filter(Boolean).map((c) => c?.briefId)).size).toBe(3);
      const stats = await a.jobStats(now + 100);
      expect(stats.counts).toEqual({ waiting: 5, active: 3, delayed: 0, failed: 0 });
    });

    it('runs a job again once its lease lapses (its process died), counting the run; only the holder extends or finishes it', async () => {
      const now = Date.now();
      await a.insertBrief(brief('brief_x', 'u', new Date(now).toISOString()), { runAt: now });
      expect(await a.claimJob('dead-owner', now, 1000, 5)).toEqual({ briefId: 'brief_x', attempt: 1, requestId: 'r-brief_x' });
      expect(await b.claimJob('other', now + 500, 1000, 5)).toBeUndefined();
      expect(await b.extendLease('brief_x', 'other', now + 5000)).toBe(false);
      const later = now + 1500;
      expect((await a.jobStats(later)).counts).toEqual({ waiting: 1, active: 0, delayed: 0, failed: 0 });
      expect((await a.jobStats(later + 2000)).oldestJobAgeSeconds).toBeCloseTo(2.5, 1);
      expect(await b.claimJob('other', later, 1000, 5)).toEqual({ briefId: 'brief_x', attempt: 2, requestId: 'r-brief_x' });
      await a.finishJob('brief_x', 'dead-owner', { kind: 'done' }); // the old holder's late finish changes nothing
      expect((await a.jobStats(later)).counts.active).toBe(1);
      await b.finishJob('brief_x', 'other', { kind: 'done' });
      expect((await a.jobStats(later)).counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    });

    it('delays a retried job, keeps a dead letter, and hands back a released job without counting the run', async () => {
      const now = Date.now();
      for (const id of ['r', 'd', 'l']) await a.insertBrief(brief(`brief_${id}`, 'u', new Date(now).toISOString()), { runAt: now });
      const claimed = new Map<string, number>();
      for (let i = 0; i < 3; i += 1) {
        const c = await a.claimJob('w', now, 10_000, 5);
        if (c) claimed.set(c.briefId, c.attempt);
      }
      expect([...claimed.keys()].sort()).toEqual(['brief_d', 'brief_l', 'brief_r']);
      await a.finishJob('brief_r', 'w', { kind: 'retry', runAt: now + 5000, error: 'boom' });
      await a.finishJob('brief_d', 'w', { kind: 'dead', error: 'gave up' });
      await a.finishJob('brief_l', 'w', { kind: 'release' });
      expect((await b.jobStats(now + 1)).counts).toEqual({ waiting: 1, active: 0, delayed: 1, failed: 1 });
      expect(await b.claimJob('w2', now + 1, 10_000, 5)).toEqual({ briefId: 'brief_l', attempt: 1, requestId: 'r-brief_l' });
      expect(await b.claimJob('w2', now + 2, 10_000, 5)).toBeUndefined(); // the retry waits for its time
      expect(await b.claimJob('w2', now + 5000, 10_000, 5)).toMatchObject({ briefId: 'brief_r', attempt: 2 });
    });
  });
}

describeStateStore('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ic-state-'));
  return { open: () => new SqliteStateStore(join(dir, 'state.db'), 5000), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeStateStore('PostgreSQL', async () => {
  const db = await freshDatabase('ic_state_spec');
  return { open: () => new PostgresStateStore(db.url, 5000), cleanup: db.drop };
});
