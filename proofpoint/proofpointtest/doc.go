// Package proofpointtest is an in-process fake of the Proofpoint TAP API
// v2 for tests, demos and clients in other languages.
//
// [New] (or [NewServer] in a test) starts it on 127.0.0.1, over HTTP or,
// with [WithTLS], over HTTPS with a generated CA ([Server.CACertPEM]).
// [Server.Client] returns the real proofpoint client wired to it with fast
// retries and the fake's clock.
//
// What it models:
//
//   - HTTP Basic auth with one service credential (401 otherwise) and a
//     switch for 403 ([Server.SetForbidden]).
//   - The SIEM endpoints (all, issues, messages/delivered, messages/blocked,
//     clicks/permitted, clicks/blocked) with interval (three ISO-8601
//     forms), sinceTime or sinceSeconds, repeated threatType and
//     threatStatus filters (default active and cleared), the live 400 texts
//     (interval too short, start too far into the past, interval still
//     current), an empty 400 for an interval that ends before it starts,
//     and the look-back ([WithLookBack]). Bodies always carry queryEndTime
//     and the endpoint's arrays, empty or not.
//   - Indexes: messages and clicks by event time, campaigns by id, member
//     and update time, people reports kept in their order with their
//     totals, so a request looks only at the items it answers with,
//     however many are seeded.
//   - Late indexing: each seeded event has an event time, which places it in
//     windows, and an index time, before which no query returns it
//     ([Server.AddDeliveredMessage] and friends), driven by an injectable
//     clock ([WithClock], [NewManualClock]).
//   - The rolling 24-hour pools with TAP's limits (or [WithPoolLimit]): a
//     spent pool answers 429 without Retry-After until requests age out.
//     [Server.PoolUsed] and [Server.UsePool] inspect and spend them.
//   - Forensics by threat (with includeCampaignForensics, resolved through
//     campaign members) or campaign, campaign ids (paged; 404 when the page
//     is empty) and details, people/vap and people/top-clickers (window 14,
//     30 or 90, paged, sorted by attack index or clicks), url/decode
//     (v1, v2 and v3 rewrites decoded by [DecodeURLDefense], or seeded
//     answers) and threat summaries; unknown ids answer 404.
//   - Live JSON casing (threatID, campaignID, cluster, recipient lists) by
//     default; [WithDocumentedCasing] switches to the documentation's
//     spellings (threatId, campaignId, clusterId, single fromAddress).
//   - Fault injection ([Server.InjectFault]: latency, any status, dropped
//     connections, truncated JSON, lost answers, delayed effects; by count
//     or by seeded rate, [Server.FaultSeed]) and request recording
//     ([Server.Requests]).
//
// Where it differs from the service:
//
//   - 400 texts TAP is not on record for (a missing or duplicated time
//     parameter, an interval over one hour, bad filters, forensics and
//     people parameters) use the fake's own wording (the Text* constants);
//     401, 403, 404 and 429 bodies are short plain-text words.
//   - Events are placed in windows by messageTime or clickTime, and
//     "issues" returns every delivered message and permitted click that
//     passes the filters; TAP's own rules for both are not documented.
//   - Every authorized request counts against its pool, including those
//     answered 400; requests answered 429 do not.
//   - format=syslog is refused with a 400 (TAP would answer syslog lines or
//     204); an absent format is treated as json.
//   - Results come back in seeding order (TAP guarantees no order), the
//     campaign ids page past the end answers 404, and people reports are
//     computed from the seeded users (averageAttackIndex is their mean;
//     the threshold is set with [WithVAPThreshold]).
//   - url/decode never sends the per-URL extras some tenants see (error,
//     messageGuid, clusterName, recipientEmail).
//   - One credential, one customer; there is no Essentials host, no v1 API
//     and no compromisedAccounts endpoint.
//   - A click's recipient is always one address, and message sizes and
//     scores are always numbers; the list and numeric-string shapes some
//     payloads carry are not produced (package proofpoint reads them).
package proofpointtest
