/**
 * The metrics the functions emit and the alarms and dashboard read: one list, imported by both, so a
 * renamed metric cannot leave an alarm watching nothing. External names: renaming one breaks users'
 * dashboards and needs an ADR.
 */
export const METRICS_NAMESPACE = 'EcrAdmission';
export const SERVICE_NAME = 'ecr-admission';

export const METRIC = {
  /** Admissions answered allowed, allowed with warnings, denied (one each per review). */
  Allowed: 'Allowed',
  Warned: 'Warned',
  Denied: 'Denied',
  /** Images of a review answered from the decision cache, and gathered live. */
  CacheHits: 'CacheHits',
  CacheMisses: 'CacheMisses',
  /** Milliseconds the admission function spent on a request. */
  AdmissionLatency: 'AdmissionLatency',
  /** Images answered by the failure mode (facts could not be had in time). */
  FactsUnavailable: 'FactsUnavailable',
  /** Failed ECR calls, after the SDK's retries. */
  EcrErrors: 'EcrErrors',
  /** Images the mutating endpoint pinned to a digest. */
  ImagesPinned: 'ImagesPinned',
  /** Milliseconds from an event's time to the verdict written for it. */
  EventToVerdictLag: 'EventToVerdictLag',
  /** Admitted inventory writes that failed or ran out of time (the decision stands). */
  InventoryWriteFailures: 'InventoryWriteFailures',
  /**
   * Exposure events published (an admitted image turned denied where it runs), and those that could not
   * be (the inventory could not be listed, or EventBridge refused: logged; the verdict is stored).
   */
  ExposureEvents: 'ExposureEvents',
  ExposureEventFailures: 'ExposureEventFailures',
  /**
   * Pods the continuity guard admitted with a warning (re-created by their controller within the
   * grace), and its inventory reads that failed or ran out of time (the request was judged as ever).
   */
  ContinuityGraced: 'ContinuityGraced',
  ContinuityLookupFailures: 'ContinuityLookupFailures',
  /** Images the refresh workflow could not refresh (nothing cached for them). */
  RefreshFailures: 'RefreshFailures',
  /** Images the admission function asked the workflow to import or restore, and asks that failed. */
  PreparationRequests: 'PreparationRequests',
  PreparationRequestFailures: 'PreparationRequestFailures',
  /** Events the buffer's consumer received, executions it started, and events whose work another event's execution does. */
  BufferedEvents: 'BufferedEvents',
  ExecutionsStarted: 'ExecutionsStarted',
  EventsCoalesced: 'EventsCoalesced',
  /** Malformed or unknown events the buffer's consumer dropped (logged with why). */
  EventsRefused: 'EventsRefused',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * Metrics no function emits: CloudWatch Logs metric filters derive them from the API's access log
 * (namespace METRICS_NAMESPACE, no dimensions: a filter's dimensions can only be log fields).
 */
export const LOG_METRIC = {
  /** Requests API Gateway refused with 429: stage throttling, which the API server counts as a failed call. */
  ApiThrottled: 'ApiThrottled',
} as const;

/**
 * The Prometheus metrics of `ecr-admission serve` (`GET /metrics`). External names, as above; labels:
 * `decision` allowed | warned | denied | exempt; `cache` hit | miss | none (a request's images all
 * answered from the cache, at least one gathered live, none looked up); `what` cache | facts |
 * inventory (an admitted inventory write); `cause` the failure class.
 */
export const PROMETHEUS_METRIC = {
  admissions: 'ecr_admission_admissions_total',
  latency: 'ecr_admission_request_duration_seconds',
  lookups: 'ecr_admission_image_lookups_total',
  failures: 'ecr_admission_failures_total',
  ecrErrors: 'ecr_admission_ecr_errors_total',
  pinned: 'ecr_admission_images_pinned_total',
} as const;
