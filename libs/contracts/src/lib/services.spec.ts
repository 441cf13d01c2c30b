import { SERVICE_DEPENDENCIES, SERVICE_NAMES, SERVICE_PORTS } from './services';

describe('service catalogue', () => {
  it('lists the four services on 8001-8004', () => {
    expect(SERVICE_NAMES.map((s) => SERVICE_PORTS[s])).toEqual([8001, 8002, 8003, 8004]);
  });

  it('gives every service a database dependency', () => {
    for (const name of SERVICE_NAMES) expect(SERVICE_DEPENDENCIES[name]).toContain('database');
  });
});
