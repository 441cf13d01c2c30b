import { SERVICE_DEPENDENCIES, SERVICE_MANIFEST, SERVICE_NAMES, SERVICE_PORTS } from './services';
import { BUSINESS_METRICS, businessMetric, MONITORING_METRICS } from './metrics.catalog';

describe('service catalogue (the manifest)', () => {
  it('keeps the contract’s four services on 8001-8004 (CONTRACT.md §1)', () => {
    expect(SERVICE_PORTS).toMatchObject({ 'integration-controller': 8001, 'content-engine': 8002, 'media-engine': 8003, 'delivery-gateway': 8004 });
  });

  it('gives every service a kebab-case name and a port of its own, none the fakes’', () => {
    expect(new Set(SERVICE_NAMES).size).toBe(SERVICE_NAMES.length);
    expect(SERVICE_NAMES.filter((n) => !/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(n))).toEqual([]);
    const ports = [SERVICE_MANIFEST.fakes.port, ...SERVICE_NAMES.map((s) => SERVICE_PORTS[s])];
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('names only upstreams the fakes imitate and services it declares', () => {
    const upstreams = Object.keys(SERVICE_MANIFEST.upstreams);
    expect(SERVICE_MANIFEST.services.flatMap((s) => s.upstreams.filter((u) => !upstreams.includes(u)))).toEqual([]);
    expect(SERVICE_MANIFEST.services.flatMap((s) => s.calls.filter((c) => !SERVICE_NAMES.includes(c) || c === s.name))).toEqual([]);
  });

  it('gives every service a database dependency', () => {
    for (const name of SERVICE_NAMES) expect(SERVICE_DEPENDENCIES[name]).toContain('database');
  });
});

describe('business metrics (the catalog and the manifest)', () => {
  it('declares, with help and labels, exactly the families the manifest gives its services, each owned once', () => {
    const owned = [...SERVICE_MANIFEST.services, ...(SERVICE_MANIFEST.monitors ?? [])].flatMap((s) => s.businessMetrics);
    expect(new Set(owned).size).toBe(owned.length);
    expect([...owned].sort()).toEqual(Object.values(BUSINESS_METRICS).map((m) => m.name).sort());
    expect(Object.values(BUSINESS_METRICS).filter((m) => !m.help || !/^[a-z_:][a-z0-9_:]*$/.test(m.name))).toEqual([]);
  });

  it('keeps business names apart from the platform families', () => {
    const platform = new Set(Object.values(MONITORING_METRICS).map((m) => m.name));
    expect(Object.values(BUSINESS_METRICS).filter((m) => platform.has(m.name))).toEqual([]);
    expect(businessMetric('messages_delivered_total')).toBe(BUSINESS_METRICS.messagesDelivered);
    expect(businessMetric('made_up_total')).toBeUndefined();
  });
});
