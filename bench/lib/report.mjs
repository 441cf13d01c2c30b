// The Markdown table of `npm run bench`.
const ms = (x) => `${x.toFixed(1)} ms`;
const rps = (x) => Math.round(x).toLocaleString('en-US');
const pct = (x) => `${(100 * x).toFixed(1)}%`;

export function renderMarkdown(report) {
  const { machine, config, scenarios, audit_query: audit, services, targets, profiles } = report;
  const lines = [
    `# personai-monitoring benchmark (${report.mode}, ${report.when})`,
    '',
    `Node ${machine.node}, ${machine.cpus} CPUs, load by ${machine.tool}${machine.pinned ? ', servers and load generator pinned to different CPUs' : ''}. ` +
      `${config.rounds} interleaved round(s) of ${config.seconds} s per scenario after a ${config.warmupSeconds} s warm-up; figures are medians over rounds; ` +
      `the scenario order rotates between rounds; ratios are taken round by round (each round's ratios are in bench.json), then the median. Services run from dist/ with NODE_ENV=production.`,
    ...(profiles ? ['', '**Profiled run**: the measured services ran under the V8 profiler, whose overhead is in their figures; judge the targets on a run without `--profile`.'] : []),
    '',
    '## Targets',
    '',
    '| Target | Measured | Goal | |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.name} | ${t.figure} | ${t.goal} | ${t.kind === 'reference' ? 'reference' : t.met ? 'met' : '**missed**'} |`),
  ];
  if (scenarios) {
    const bare = scenarios.find((s) => s.key === 'bare');
    const bareNest = scenarios.find((s) => s.key === 'bare_nest');
    lines.push(
      '',
      '## HTTP scenarios',
      '',
      '| # | Scenario | Connections | req/s | × bare node:http | × bare NestJS | p50 | p99 (median) | p99 (worst round) | non-2xx / socket errors |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...scenarios.map((s, i) => `| ${i + 1} | ${s.label} | ${s.connections} | ${rps(s.rps)} | ${(s.rps / bare.rps).toFixed(2)} | ${(s.rps / bareNest.rps).toFixed(2)} | ${ms(s.p50_ms)} | ${ms(s.p99_ms)} | ${ms(s.worst_p99_ms)} | ${s.non_2xx} / ${s.socket_errors} |`),
      '',
      `Audited POST: ${report.post_audit_events.server_2xx.toLocaleString('en-US')} answered 2xx by the server (${report.post_audit_events.client_2xx.toLocaleString('en-US')} received by the load generator within the measured windows), ${report.post_audit_events.stored.toLocaleString('en-US')} user_login events stored.`,
      '',
      '## Start-up and idle RSS',
      '',
      '| Service | Spawn to /health/ready (median) | Runs | Idle RSS |',
      '|---|---|---|---|',
      ...services.map((s) => `| ${s.service} | ${s.startup_ms.toFixed(0)} ms | ${s.startup_runs_ms.map((x) => x.toFixed(0)).join(', ')} ms | ${s.idle_rss_mb.toFixed(1)} MB |`),
    );
  }
  if (audit) {
    lines.push(
      '',
      `## GET /audit on ${audit.rows[0].events.toLocaleString('en-US')} events (SQLite, 10 connections, seeded in ${audit.seedSeconds.toFixed(1)} s)`,
      '',
      '| Filter | total_events | expected | req/s | p50 | p99 |',
      '|---|---|---|---|---|---|',
      ...audit.rows.map((q) => `| \`${q.filter}\` | ${q.total_events.toLocaleString('en-US')} | ${q.expected_total.toLocaleString('en-US')} | ${rps(q.rps)} | ${ms(q.p50_ms)} | ${ms(q.p99_ms)} |`),
    );
  }
  if (report.pipeline?.length) {
    lines.push(
      '',
      `## Briefs through the whole pipeline (fakes without latency, ${report.pipeline[0].clients} posting clients, BRIEF_CONCURRENCY ${report.pipeline[0].concurrency})`,
      '',
      '| Queue backend | Briefs | Completed | Failed | Refused | Seconds | Briefs/s | Side effects at the fakes |',
      '|---|---|---|---|---|---|---|---|',
      ...report.pipeline.map((r) => `| ${r.backend} | ${r.briefs} | ${r.completed} | ${r.failed} | ${r.refused} | ${r.seconds.toFixed(1)} | ${r.briefs_per_second.toFixed(1)} | ${Object.entries(r.calls).map(([k, v]) => `${k} ${v}`).join(', ')} |`),
    );
  }
  for (const profile of profiles ?? []) {
    lines.push(
      '',
      `## CPU profile: ${profile.what}`,
      '',
      `\`${profile.file}\` (open in Chrome DevTools or speedscope). Busy ${pct(profile.busyShare)} of the time; shares below are of busy time.`,
      '',
      '| Self time by package | Share |',
      '|---|---|',
      ...profile.packages.map((p) => `| ${p.name} | ${pct(p.share)} |`),
      '',
      '| Hottest functions (self time) | Share |',
      '|---|---|',
      ...profile.functions.map((f) => `| \`${f.name}\` | ${pct(f.share)} |`),
    );
  }
  return `${lines.join('\n')}\n`;
}
