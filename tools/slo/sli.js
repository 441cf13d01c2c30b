// The SLI types an SLO definition may name: for each, the PromQL of its bad and all events (written once,
// here) and, for the generated promtool tests, the raw series that make good and bad events, plus series
// that must NOT count (probes, other services) so the tests prove the selectors too.

/** Probes, scrapes and the fault API are not business traffic: a 503 from /health/ready is the signal working. */
const NOT_BUSINESS = '/health.*|/metrics|/__faults.*';

const sumRate = (selector, w) => `sum(rate(${selector}[${w}]))`;
/** No series yet (no failure ever) is zero failures, not "no data". */
const orZero = (expr) => `(${expr} or vector(0))`;

const business = (service) => `service="${service}",endpoint!~"${NOT_BUSINESS}"`;

const SLI_TYPES = {
  availability: {
    errors: (s, _sli, w) => orZero(sumRate(`http_requests_total{${business(s)},status=~"5.."}`, w)),
    total: (s, _sli, w) => sumRate(`http_requests_total{${business(s)}}`, w),
    series: (s) => ({
      good: [`http_requests_total{service="${s}",method="POST",endpoint="/probe-route",status="201"}`],
      bad: [`http_requests_total{service="${s}",method="POST",endpoint="/probe-route",status="503"}`],
      noise: [`http_requests_total{service="${s}",method="GET",endpoint="/health/ready",status="503"}`, `http_requests_total{service="other",method="POST",endpoint="/probe-route",status="500"}`],
    }),
  },
  latency: {
    validate: (sli, at) => {
      if (typeof sli.threshold_seconds !== 'number' || sli.threshold_seconds <= 0) throw new Error(`${at}.threshold_seconds must be a positive number of seconds (a bucket bound of http_request_duration_seconds)`);
    },
    // Slower than the threshold = every request minus those in the threshold's bucket.
    errors: (s, sli, w) => `(${sumRate(`http_request_duration_seconds_count{${business(s)}}`, w)} - ${sumRate(`http_request_duration_seconds_bucket{${business(s)},le="${sli.threshold_seconds}"}`, w)})`,
    total: (s, _sli, w) => sumRate(`http_request_duration_seconds_count{${business(s)}}`, w),
    series: (s, sli) => ({
      // good: in the bucket and in the count; bad: only in the count.
      good: [`http_request_duration_seconds_bucket{service="${s}",method="POST",endpoint="/probe-route",status="201",le="${sli.threshold_seconds}"}`, `http_request_duration_seconds_count{service="${s}",method="POST",endpoint="/probe-route",status="201"}`],
      bad: [`http_request_duration_seconds_count{service="${s}",method="POST",endpoint="/probe-route",status="201"}`],
      noise: [`http_request_duration_seconds_count{service="${s}",method="GET",endpoint="/health",status="200"}`],
    }),
  },
  brief_pipeline: {
    errors: (s, _sli, w) => orZero(sumRate(`briefs_processed_total{service="${s}",status="failed"}`, w)),
    total: (s, _sli, w) => sumRate(`briefs_processed_total{service="${s}"}`, w),
    series: (s) => ({
      good: [`briefs_processed_total{service="${s}",status="completed"}`],
      bad: [`briefs_processed_total{service="${s}",status="failed"}`],
      noise: [],
    }),
  },
  probe: {
    // The prober's own series carry service="service-prober"; the probed service is `target`.
    errors: (s, _sli, w) => orZero(sumRate(`probe_runs_total{target="${s}",outcome="failure"}`, w)),
    // Runs inside a maintenance window (outcome="maintenance") spend no budget.
    total: (s, _sli, w) => sumRate(`probe_runs_total{target="${s}",outcome=~"success|failure"}`, w),
    series: (s) => ({
      good: [`probe_runs_total{service="service-prober",target="${s}",check="health",outcome="success"}`],
      bad: [`probe_runs_total{service="service-prober",target="${s}",check="health",outcome="failure"}`],
      noise: [`probe_runs_total{service="service-prober",target="other",check="health",outcome="failure"}`, `probe_runs_total{service="service-prober",target="${s}",check="health",outcome="maintenance"}`],
    }),
  },
  audit_write: {
    errors: (s, _sli, w) => orZero(sumRate(`audit_write_failures_total{service="${s}"}`, w)),
    total: (s, _sli, w) => `(${orZero(sumRate(`audit_events_total{service="${s}"}`, w))} + ${orZero(sumRate(`audit_write_failures_total{service="${s}"}`, w))})`,
    series: (s) => ({
      good: [`audit_events_total{service="${s}",event_type="probe_event",success="true"}`],
      bad: [`audit_write_failures_total{service="${s}"}`],
      noise: [`audit_write_failures_total{service="other"}`],
    }),
  },
};

module.exports = { SLI_TYPES, NOT_BUSINESS };
