// Package console is the operator's web console of the example connectors, served by their ops server under
// /console/ (see ops.Mount). It is server-rendered HTML (html/template, embedded templates, stylesheet and a few
// lines of optional script, no build step) and works without JavaScript:
//
//   - the overview: each source's checkpoint and lag, items by state, the work of the last hours (evidence
//     collected, verdicts by kind, actions and dead letters) as inline SVG charts, component health, every vendor
//     API's last success, last error and 429s, and the dead-letter count;
//   - items, searchable by hash (any hash of the file, or a part of one), file name, state, verdict and device;
//   - an item's page: evidence, sightings, verdict with the analyzer's report link, ticket, every action with its
//     result, the attempts and next attempt of a step waiting on a backoff, and a retry button;
//   - dead letters with their reasons, retried one by one or all at once: the same operation as the `state retry`
//     command (connector.RetryItems, connector.RetryFailed).
//
// The store answers the pages about items; what it does not hold (recent throughput, health, vendor HTTP health)
// comes from an Activity, which the runner feeds from the engine's observer and the vendor clients' HTTP observer.
// It keeps per-minute counts over the last Window in memory, so the charts start empty after a restart.
//
// Safety: the console is open only on a loopback address, and then answers only requests whose Host names the
// loopback interface (no DNS rebinding). Exposed, it needs a bearer token or HTTP basic auth (Auth). Every form
// carries a CSRF token tied to a per-browser cookie and passes the standard library's cross-origin check; every
// answer carries a strict Content-Security-Policy (no inline script or style) and no-store caching. It renders
// no configuration, so no secret; html/template escapes every stored value (file names, reasons, report links).
package console
