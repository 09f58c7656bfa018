package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type itemT struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

func TestDecodeItemsSkipsBadItems(t *testing.T) {
	raw := []byte(`[{"id":"a","count":1},{"id":"b","count":"many","secret":"s3cr3t-key"},7,{"guid":42,"count":{}},{"id":"e","count":5}]`)
	items, skipped, err := DecodeItems[itemT](raw, "id", "guid")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != "a" || items[1].ID != "e" || items[1].Count != 5 {
		t.Fatalf("items = %+v", items)
	}
	if len(skipped) != 3 || skipped[0].Index != 1 || skipped[0].ID != "b" || skipped[1].Index != 2 || skipped[1].ID != "" ||
		skipped[2].ID != "42" {
		t.Fatalf("skipped = %+v", skipped)
	}
	var logs bytes.Buffer
	c, err := New(Config{Vendor: "v", BaseURL: "http://x.invalid", Secrets: []string{"s3cr3t-key"},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	skipped = c.ReportSkipped(context.Background(), "Things.List", skipped, func(s SkippedItem) { handled = append(handled, s.ID) })
	if strings.Join(handled, ",") != "b,,42" {
		t.Errorf("handler saw %q", handled)
	}
	if skipped[0].Op != "Things.List" || strings.Contains(skipped[0].Excerpt, "s3cr3t-key") || !strings.Contains(skipped[0].Excerpt, `"id":"b"`) {
		t.Errorf("report = %+v", skipped[0])
	}
	var typeErr *json.UnmarshalTypeError
	if !errors.As(skipped[0], &typeErr) || !strings.Contains(skipped[0].Error(), "item 1 (b) skipped") {
		t.Errorf("error = %v", skipped[0])
	}
	out := logs.String()
	if strings.Count(out, "level=WARN") != 3 || strings.Contains(out, "s3cr3t-key") || !strings.Contains(out, "id=b") {
		t.Errorf("logs = %s", out)
	}
	if c.ReportSkipped(context.Background(), "x", nil, nil) != nil {
		t.Error("nothing to report gave a list")
	}
}

func TestDecodeItemsShapes(t *testing.T) {
	for _, raw := range []string{``, `null`, ` [] `} {
		items, skipped, err := DecodeItems[itemT]([]byte(raw))
		if err != nil || len(items) != 0 || skipped != nil {
			t.Errorf("%q: %v %v %v", raw, items, skipped, err)
		}
	}
	for _, raw := range []string{`{"id":"a"}`, `"x"`, `[{"id":"a"}`} {
		if _, _, err := DecodeItems[itemT]([]byte(raw)); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%q: %v", raw, err)
		}
	}
	long := `[{"id":"` + strings.Repeat("é", 400) + `","count":"x"}]`
	_, skipped, _ := DecodeItems[itemT]([]byte(long), "id")
	if len(skipped) != 1 || len(skipped[0].Excerpt) > excerptLen+3 || !strings.HasSuffix(skipped[0].Excerpt, "...") ||
		!strings.HasPrefix(skipped[0].Excerpt, `{"id":"éé`) {
		t.Errorf("excerpt = %q", skipped[0].Excerpt)
	}
}
