package config

import (
	"fmt"
	"strings"
)

// Problem is one invalid configuration key.
type Problem struct {
	Key    string // dotted YAML path, for example "vmray.url"
	Reason string
}

// Problems collects everything wrong with a configuration, so a user fixes
// all of it in one go.
type Problems []Problem

// Add records that key is wrong.
func (p *Problems) Add(key, format string, args ...any) {
	*p = append(*p, Problem{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// Require records a problem when value is empty.
func (p *Problems) Require(key, value string) {
	if strings.TrimSpace(value) == "" {
		p.Add(key, "is required")
	}
}

// Err returns nil when there are no problems, else an *Error.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: append(Problems(nil), p...)}
}

// Error reports invalid configuration.
type Error struct {
	Problems Problems
}

// Error lists every problem, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Key, p.Reason)
	}
	return b.String()
}
