package resttest

import (
	"strings"
	"testing"
)

func TestShrinkKeepsTheShape(t *testing.T) {
	long := strings.Repeat("x", 3000)
	doc := `{"results":[{"id":"a","n":12345678901234567890,"tags":["t1","t2"],"blob":"` + long + `"},{"id":"b"}],"num_found":2}`
	got, err := shrink([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > maxSeed {
		t.Fatalf("seed of %d bytes", len(got))
	}
	for _, want := range []string{`"num_found":2`, `"id":"a"`, `"n":12345678901234567890`, `"tags":["t1"]`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("seed %s lacks %s", got, want)
		}
	}
	if strings.Contains(string(got), `"id":"b"`) {
		t.Errorf("seed %s kept the second element", got)
	}
	if _, err := shrink([]byte(`{"a":`)); err == nil {
		t.Error("a broken recording was accepted")
	}
}
