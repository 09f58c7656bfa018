package soak

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The driver tells a killed run from one that ended, and passes on the
// exit code and output.
func TestDriver(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, body string
		limit      time.Duration
		killed     bool
		code       int
		out        string
	}{
		{"hangs", `exec sleep 30`, 200 * time.Millisecond, true, -1, ""},
		{"ends", `echo "pending: 2 items after $1"`, time.Minute, false, 0, "pending: 2 items after -once"},
		{"fails", `echo refused >&2; exit 2`, time.Minute, false, 2, "refused"},
	} {
		d := &driver{name: tc.name, binary: script(tc.name, tc.body), dir: dir, env: os.Environ()}
		killed, out, code, err := d.start(ctx, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if killed != tc.killed || code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("%s: killed %v, exit %d, output %q; want %v, %d, %q", tc.name, killed, code, out, tc.killed, tc.code, tc.out)
		}
	}
}
