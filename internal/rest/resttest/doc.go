// Package resttest holds what the vendor packages' decoder fuzz targets
// share: a [Canned] transport that answers every request with one body, so a
// real vendor client decodes fuzzed bytes without a network; small seeds cut
// from the package's recorded payloads ([AddSeeds]); and [FuzzCalls], which
// serves each input to one of the vendor calls and requires every failure to
// pass [CheckError] (a typed *rest.Error that shows no secret).
package resttest
