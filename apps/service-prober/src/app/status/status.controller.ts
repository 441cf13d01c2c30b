import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { inMaintenance } from '../probes/maintenance';
import { ProberService } from '../probes/prober.service';
import { renderStatusPage } from './status-page';
import { budgetLeft, checkView, StatusView } from './status-view';

/** The page's own policy: its inline styles and SVG, nothing from elsewhere, never framed. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

@Controller('status')
export class StatusController {
  constructor(@Inject(ProberService) private readonly prober: ProberService) {}

  /** The status page people look at (Gatus-like). */
  @Get()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_CSP)
  @Header('cache-control', 'no-store')
  page(): string {
    return renderStatusPage(this.view(), Math.max(5, Math.round(this.prober.config.intervalMs / 1000)));
  }

  /** The same, as JSON (what the page shows). */
  @Get('json')
  @ApiExcludeEndpoint()
  @Header('cache-control', 'no-store')
  json(): StatusView {
    return this.view();
  }

  private view(): StatusView {
    const now = Date.now();
    const { config } = this.prober;
    const budget = (check: string) => (check === 'health' ? config.healthBudgetMs : check === 'brief' ? config.briefTimeoutMs : config.timeoutMs);
    const targets = config.targets.map((t) => {
      const checks = this.prober.states.filter((s) => s.target === t.name).map((s) => checkView(s, budget(s.check), now));
      const known = checks.filter((c) => c.up !== null);
      return {
        name: t.name,
        url: t.url,
        up: known.length ? known.every((c) => c.up) : null,
        maintenance: inMaintenance(config.maintenance, t.name, now),
        error_budget_left: budgetLeft(checks, config.PROBE_OBJECTIVE),
        checks,
      };
    });
    const open = this.prober.states.flatMap((s) => (s.open ? [s.open] : []));
    return { generated_at: new Date(now).toISOString(), objective_percent: config.PROBE_OBJECTIVE, targets, incidents: { open, resolved: [...this.prober.closedIncidents] } };
  }
}
