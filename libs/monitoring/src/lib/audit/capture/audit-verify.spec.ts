import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'prom-client';
import { MonitoringModule } from '../../monitoring.module';
import { createTestApp } from '../../testing/create-test-app';
import { SqliteAuditStore } from '../stores/sqlite-audit.store';
import { AuditService } from './audit.service';

/**
 * GET /audit/verify reads and hashes the whole log. Callers who ask while one walks share its answer: in an incident
 * several people (and scripts) ask at once, and each walk after the first would only repeat it, later.
 */
describe('AuditService.verify: callers during a walk share it', () => {
  let dir: string;
  let app: INestApplication;
  let store: SqliteAuditStore;
  let walks = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-audit-verify-'));
    store = new SqliteAuditStore(join(dir, 'audit.db'), 'spec');
    for (let i = 0; i < 200; i += 1) await store.append({ timestamp: new Date().toISOString(), service: 'spec', event_type: 'user_login', user_id: `u${i}`, resource_id: null, action: 'login', details: {}, success: true, request_id: null });
    const verify = store.verify.bind(store);
    walks = 0;
    store.verify = (options) => {
      walks += 1;
      return verify(options);
    };
    app = await createTestApp({ imports: [MonitoringModule.forRoot({ serviceName: 'spec', version: '0.0.0-spec', auditDatabase: join(dir, 'unused.db'), auditStore: store, healthCheckIntervalMs: 3_600_000 })] });
  });
  afterEach(async () => {
    await app.close();
    register.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three callers at once: one walk, one answer; a caller after it ends: a walk of its own', async () => {
    const audit = app.get(AuditService);
    const answers = await Promise.all([audit.verify(), audit.verify(), audit.verify()]);
    expect(walks).toBe(1);
    expect(answers[0]).toMatchObject({ intact: true, checked: 200 });
    expect(answers[1]).toBe(answers[0]);
    expect(answers[2]).toBe(answers[0]);

    await store.append({ timestamp: new Date().toISOString(), service: 'spec', event_type: 'user_login', user_id: 'late', resource_id: null, action: 'login', details: {}, success: true, request_id: null });
    expect(await audit.verify()).toMatchObject({ intact: true, checked: 201 });
    expect(walks).toBe(2);
  });

  it('a walk that fails fails its callers, and the next caller walks again', async () => {
    const audit = app.get(AuditService);
    const verify = store.verify;
    store.verify = () => {
      walks += 1;
      return Promise.reject(new Error('disk I/O error'));
    };
    await expect(Promise.all([audit.verify(), audit.verify()])).rejects.toThrow('disk I/O error');
    expect(walks).toBe(1);
    store.verify = verify;
    expect(await audit.verify()).toMatchObject({ intact: true });
    expect(walks).toBe(2);
  });
});
