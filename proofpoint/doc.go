// Package proofpoint is a client for the Proofpoint Targeted Attack
// Protection (TAP) API v2: the SIEM event feed, forensics, campaigns, people
// reports, URL Defense decoding and threat summaries.
//
// # Authentication
//
// TAP uses HTTP Basic with a service credential created in the TAP
// dashboard under Settings > Connected Applications: the service principal
// is the user name and the service secret the password. The secret never
// appears in logs or errors.
//
//	c, err := proofpoint.New(proofpoint.DefaultBaseURL, principal, secret)
//
// # Services
//
// Services hang off the client: c.Campaigns (campaign ids per interval,
// campaign details), c.Forensics (by threat or campaign), c.People (very
// attacked people, top clickers), c.SIEM (message and click events),
// c.Threats (threat summaries) and c.URLs (URL decoding). List endpoints
// offer one page (ListIDs, ListVAP, ListTopClickers, with NextPage) and an
// iter.Seq2 over every page (AllIDs, AllVAP, AllTopClickers). The campaign
// ids endpoint answers 404 for an interval without campaigns; the client
// returns an empty page instead.
//
// # SIEM windows and the look-back
//
// The SIEM endpoints return every event of one window in one body, without
// paging or ordering, and always with format=json. Exactly one of
// Query.Interval, Query.SinceTime and Query.SinceSeconds selects the window,
// and TAP's rules are checked before anything is sent: 30 seconds to one
// hour, starting no more than the look-back (seven days by default,
// [WithLookBack]) in the past, and ending at least a minute before now
// ([WithEndMargin]; TAP answers "The requested interval is still current."
// otherwise). A refused window is an [*Error] wrapping a [*WindowError]
// that matches [ErrInvalidWindow] and a specific sentinel such as
// [ErrWindowTooShort]; TAP's own 400 texts about windows match the same
// sentinels.
//
// TAP indexes events up to about 30 minutes after they happen, so a window
// fetched as soon as it closes can miss events that later appear in it.
// [SIEMService.Poll] handles this: given a range it plans valid windows
// ([SIEMService.Plan]), fetches them in order, re-reads a look-back overlap
// before the resume point (PollQuery.LookBack, [DefaultPollLookBack]) and
// yields one [Batch] per window, deduplicated by message GUID (plus
// recipients) and click id, with the Resume time to persist. Keep the
// [Seen] set between runs (it marshals to JSON) so the overlap yields no
// event twice:
//
//	seen := proofpoint.NewSeen()
//	for b, err := range c.SIEM.Poll(ctx, proofpoint.PollQuery{
//		Streams:  []proofpoint.Stream{proofpoint.StreamMessagesDelivered},
//		From:     checkpoint, LookBack: proofpoint.DefaultPollLookBack,
//		ThreatTypes: []string{proofpoint.ThreatTypeAttachment}, Seen: seen,
//	}) {
//		if err != nil { return err }
//		handle(b.MessagesDelivered)
//		checkpoint = b.Resume
//	}
//
// A range older than the look-back limit is not requested (TAP would refuse
// it for ever); the first batch reports it in Skipped, and when nothing of
// the range is left Poll yields one empty batch whose Resume moves past it.
//
// # Throttling pools
//
// TAP counts requests per credential over a rolling 24 hours, in pools: the
// SIEM endpoints except clicks/permitted share 1,800; clicks/permitted has
// its own 1,800; campaign ids, forensics by threat, and each people
// endpoint have 50; forensics by campaign and URL decoding 1,800; campaign
// details and threat summaries are free. The client counts every attempt it
// sends in a [PoolTracker] (retries included, since TAP counts them too),
// so c.Pools().Status(pool) shows the remaining budget. Once a pool is down
// to its reserve (1% by default, [WithPoolLimit]) calls are refused before
// sending with an error matching [ErrPoolExhausted] and [ErrRateLimited];
// [UseReserve] lets a chosen call spend the reserve. Share one tracker
// between clients of the same credential with [WithPoolTracker], and
// persist [PoolTracker.Sent] across restarts with [PoolTracker.Record].
//
// TAP's 429 carries no Retry-After and frees requests one at a time, 24
// hours after they were made, so the default retry policy waits at least
// [DefaultRateLimitedDelay] (minutes) after a 429 ([DefaultRetryPolicy]).
// Polling three SIEM streams every minute (4,320 calls a day) exceeds the
// shared pool; poll siem/all, or one stream, every five minutes or more.
//
// # Decoding quirks
//
// Types follow the live API's JSON names and also accept the documented
// ones: threatID/threatId, campaignID/campaignId, cluster/clusterId,
// recipient and fromAddress as a list or a string ([Addresses]), a click's
// recipient as a string or a list (Click.Recipients keeps every address),
// messageSize and the scores as numbers or numeric strings,
// completelyRewritten as a boolean or "na" ([Rewritten]), lenient
// timestamps ([Time]), threat-summary field names of both spellings, and
// forensic evidence decoded per type into [Evidence].Details with loosely
// typed numbers and flags ([FlexInt], [FlexBool]).
//
// # Times
//
// TAP writes ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z");
// [Time] reads that and the variants of TAP's mocks (no milliseconds,
// offsets without a colon, a space for the "T", epoch seconds) and every
// time field's comment says which it is. Query windows are sent as ISO 8601
// intervals; sinceSeconds is in seconds; forensic evidence "time" is
// documented as unsupported and usually 0.
//
// # Malformed items
//
// One event that does not decode never fails its window. The four event
// arrays are decoded item by item; an event that does not decode (a field
// of an unexpected type, say) is left out, logged at warning level with its
// index, id and a redacted excerpt, listed in Events.SkippedItems (and
// Batch.SkippedItems for polls) as a [SkippedItem], and passed to the
// handler installed with [WithSkipHandler]. Only an answer that is not JSON
// or whose arrays are not arrays fails the call. The other list answers
// (people, campaign ids) are small and decode as a whole.
//
// # Errors
//
// Every failure is an [*Error] naming the operation; errors.Is matches
// [ErrUnauthorized] (401), [ErrForbidden] (403), [ErrNotFound] (404),
// [ErrRateLimited] (429 or a refused pool), [ErrBadRequest] (400, with TAP's
// text in Error.Message), [ErrServer] (5xx) and the window sentinels.
//
// # Testing with the fake
//
// Package proofpointtest is an in-process fake TAP: seeded messages and
// clicks with an index time, the 400 texts, the look-back, the pools,
// forensics, campaigns, people, URL decoding and threat summaries, fault
// injection and request inspection. Its Client method returns this client
// wired to it.
package proofpoint
