// Package rest is the HTTP engine shared by every soarkit vendor client.
//
// A vendor package (vmray, carbonblack, sentinelone, proofpoint) builds one
// [Client] from a [Config] and describes each API call as a [Request]. The
// engine then takes care of everything that must behave the same way for every
// vendor:
//
//   - request building: base URL plus escaped path arguments ("{}" placeholders,
//     ".." refused), query structs encoded with go-querystring, JSON, form and
//     streaming multipart bodies (a file is copied through an [io.Pipe], never
//     buffered whole);
//   - authentication through a per-vendor [AuthFunc]; the credentials it sets are
//     removed when a redirect leaves the original host, and never appear in logs
//     or errors;
//   - client-side rate limiting with golang.org/x/time/rate, per client and per
//     route prefix ([RouteLimit]);
//   - retries with exponential backoff and full jitter on connection errors and
//     on 408, 429, 500, 502, 503 and 504, honouring Retry-After (seconds or HTTP
//     date, capped), bounded by a shared [RetryBudget] and by the context;
//     a request whose body cannot be replayed is retried only if no byte of it
//     was sent, and non-idempotent requests only when the server provably did not
//     act on them (connection refused, 429) or the caller marks them idempotent;
//   - responses: a size cap on every body, JSON decoding that ignores unknown
//     fields, and a typed [*Error] (status, vendor code and message, request id,
//     Retry-After, redacted body excerpt) that matches [ErrNotFound],
//     [ErrUnauthorized], [ErrForbidden], [ErrRateLimited] and the other sentinels
//     with errors.Is;
//   - timeouts by default: response headers within [DefaultResponseHeaderTimeout]
//     of the request being sent and no body stalled for [DefaultIdleReadTimeout]
//     (time the caller spends between reads does not count); a vendor that stops
//     answering fails the attempt with a [*TimeoutError] that matches [ErrTimeout],
//     reports Timeout() true like a net.Error and is retried like a connection
//     failure;
//   - streaming downloads ([Client.Stream]) and debug logging with log/slog; a
//     client made with certificate verification off logs a warning once.
//
// Helpers for what every vendor's list and job endpoints need sit beside the
// engine: [Pages] turns cursor pages into an iter.Seq2 that stops on an empty
// or repeated cursor, and [Poll] waits for a long-running vendor job with
// backoff and a bound.
//
// Vendor packages expose the engine's knobs as their own options through the
// generic [Option] type, so each vendor package stays a thin, typed layer.
package rest
