// Package resttest holds what the vendor packages' decoder fuzz targets
// share: a [Canned] transport that answers every request with one body, so a
// real vendor client decodes fuzzed bytes without a network, seed loading
// from testdata ([Seeds]) and the check every decoding failure must pass
// ([CheckError]: a typed *rest.Error that shows no secret).
package resttest
