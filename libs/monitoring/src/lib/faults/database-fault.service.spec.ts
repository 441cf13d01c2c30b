import { StoreAvailabilityService } from '../audit/capture/store-availability.service';
import { DatabaseFaultService } from './database-fault.service';

describe('DatabaseFaultService and the audit gate', () => {
  const availability = () => {
    const service = new StoreAvailabilityService({ serviceName: 'test', version: '1.0.0', auditDatabase: ':memory:', healthCheckIntervalMs: 3_600_000 });
    service.reportCheck(true);
    return service;
  };

  it('closes the gate the moment the switch is set down, before any write fails, and tells the listeners why', () => {
    const gate = availability();
    const seen: string[] = [];
    gate.onDown((message) => seen.push(message));
    const faults = new DatabaseFaultService(gate);
    expect(gate.unavailableReason()).toBeUndefined();
    faults.set('down');
    expect(gate.unavailableReason()).toBe('database unavailable (injected fault)');
    expect(seen).toEqual(['database unavailable (injected fault)']);
  });

  it('asks for a database check when a down switch is cleared or turned to slow, and only then (a passing check opens the gate)', () => {
    const gate = availability();
    let requested = 0;
    gate.onCheckRequested(() => (requested += 1));
    const faults = new DatabaseFaultService(gate);
    faults.set('slow', 10);
    faults.clear();
    expect(requested).toBe(0);
    faults.set('down');
    faults.set('slow', 10);
    expect(requested).toBe(1);
    faults.set('down');
    faults.clear();
    expect(requested).toBe(2);
    expect(gate.unavailableReason()).toBe('database unavailable (injected fault)');
    gate.reportCheck(true);
    expect(gate.unavailableReason()).toBeUndefined();
  });

  it('leaves the gate alone in slow mode', () => {
    const gate = availability();
    new DatabaseFaultService(gate).set('slow', 50);
    expect(gate.unavailableReason()).toBeUndefined();
  });
});
