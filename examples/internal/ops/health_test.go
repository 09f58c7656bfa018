package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A dependency check (the shared database) takes part in readiness on every call: while it fails the connector is
// not ready and the reason names it; once it answers again, it is.
func TestReadinessIncludesChecks(t *testing.T) {
	h := NewHealth(0)
	h.SourceCollected("edr", time.Now())
	var down error = errors.New("connection refused")
	h.Check("database", func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the check runs without a deadline")
		}
		return down
	})
	r := h.Ready()
	if r.Ready || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "database unavailable: connection refused") {
		t.Errorf("with the database down: %+v", r)
	}
	down = nil
	if r := h.Ready(); !r.Ready {
		t.Errorf("with the database up: %+v", r)
	}
}
