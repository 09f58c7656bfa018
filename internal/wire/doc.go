// Package wire reads the loosely typed values vendor APIs send, so that every
// soarkit client parses them the same way: timestamps in the ISO 8601 and
// RFC 3339 variants the vendors mix (with or without a zone, a fraction, a
// colon in the offset, a space instead of "T"), epoch seconds and
// milliseconds, and booleans, integers and strings that arrive as JSON text
// of another type.
//
// The vendor packages keep their own exported types (vmray.Time,
// carbonblack.FlexBool, ...) because their JSON encodings differ; those types
// delegate their parsing here. Nothing in this package knows a vendor.
package wire
