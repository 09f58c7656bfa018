package resttest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestShrinkKeepsEveryFieldInSmallSeeds(t *testing.T) {
	var fields []string
	for i := range 60 {
		fields = append(fields, fmt.Sprintf(`"field_%02d":"value %02d %s"`, i, i, strings.Repeat("x", 100)))
	}
	doc := `{"results":[{"id":"a","n":12345678901234567890,"tags":["t1","t2"],"gone":null,"off":false,` +
		strings.Join(fields, ",") + `},{"id":"b"}],"num_found":2}`
	seeds, err := shrink([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) < 2 {
		t.Fatalf("%d seeds: the record was not split", len(seeds))
	}
	all := strings.Join(func() []string {
		var out []string
		for _, s := range seeds {
			if len(s) > maxSeed {
				t.Errorf("seed of %d bytes: %s", len(s), s)
			}
			if !json.Valid(s) || !strings.Contains(string(s), `"num_found":2`) {
				t.Errorf("seed lost the document around the record: %s", s)
			}
			out = append(out, string(s))
		}
		return out
	}(), "\n")
	for i := range 60 {
		if !strings.Contains(all, fmt.Sprintf(`"field_%02d":"value %02d`, i, i)) {
			t.Errorf("no seed holds field_%02d", i)
		}
	}
	for _, want := range []string{`"n":12345678901234567890`, `"tags":["t1"]`, `"id":"a"`} {
		if !strings.Contains(all, want) {
			t.Errorf("seeds lack %s", want)
		}
	}
	for _, gone := range []string{`"id":"b"`, `"gone"`, `"off"`} {
		if strings.Contains(all, gone) {
			t.Errorf("seeds keep %s", gone)
		}
	}
	if _, err := shrink([]byte(`{"a":`)); err == nil {
		t.Error("a broken recording was accepted")
	}
}
