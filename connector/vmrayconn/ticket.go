package vmrayconn

import (
	"fmt"
	"strconv"
	"strings"
)

// TicketID is what a VMRay ticket refers to: the submission and the sample it
// created. Its text form, "submission:<id>/sample:<id>", is the
// connector.Ticket ID the engine stores.
type TicketID struct {
	Submission int64
	Sample     int64
}

// String returns the ticket id's text form.
func (t TicketID) String() string {
	return "submission:" + strconv.FormatInt(t.Submission, 10) + "/sample:" + strconv.FormatInt(t.Sample, 10)
}

// ParseTicketID parses what TicketID.String wrote; a bare submission id is
// accepted too (the sample is then read from the submission).
func ParseTicketID(s string) (TicketID, error) {
	var t TicketID
	subPart, smpPart, hasSample := strings.Cut(s, "/")
	subPart = strings.TrimPrefix(subPart, "submission:")
	id, err := strconv.ParseInt(subPart, 10, 64)
	if err != nil || id <= 0 {
		return t, fmt.Errorf("vmrayconn: malformed ticket id %q", s)
	}
	t.Submission = id
	if hasSample {
		smp, err := strconv.ParseInt(strings.TrimPrefix(smpPart, "sample:"), 10, 64)
		if err != nil || smp < 0 {
			return t, fmt.Errorf("vmrayconn: malformed ticket id %q", s)
		}
		t.Sample = smp
	}
	return t, nil
}
