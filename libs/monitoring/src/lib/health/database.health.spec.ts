import { HealthIndicatorService } from '@nestjs/terminus';
import { SqliteAuditStore } from '../audit/stores/sqlite-audit.store';
import { DatabaseFaultService } from '../faults/database-fault.service';
import { FaultInjectingAuditStore } from '../faults/fault-injecting-audit.store';
import { DatabaseHealthIndicator } from './database.health';

describe('DatabaseHealthIndicator', () => {
  let sqlite: SqliteAuditStore;
  let faults: DatabaseFaultService;
  let indicator: DatabaseHealthIndicator;

  beforeEach(() => {
    sqlite = new SqliteAuditStore(':memory:', 'spec');
    faults = new DatabaseFaultService();
    indicator = new DatabaseHealthIndicator(new HealthIndicatorService(), new FaultInjectingAuditStore(sqlite, faults));
  });
  afterEach(() => sqlite.close());

  it('is up when the store answers a query', async () => {
    expect(await indicator.check()).toEqual({ database: { status: 'up' } });
  });

  it('is down with the store error when the database fails, and up again when it returns', async () => {
    faults.set('down');
    expect(await indicator.check()).toEqual({ database: { status: 'down', message: 'database unavailable (injected fault)' } });
    faults.clear();
    expect(await indicator.check()).toEqual({ database: { status: 'up' } });
  });

  it('is down once the database connection is closed', async () => {
    await sqlite.close();
    expect((await indicator.check()).database.status).toBe('down');
  });
});
