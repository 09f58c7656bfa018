package connector

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A file seen again and again keeps at most MaxSightings sightings (the latest) and counts the rest, so its stored
// size stops growing.
func TestSightingsAreBounded(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	sighting := func(i int) Sighting {
		return Sighting{Source: "edr", DeviceID: fmt.Sprint(i % 40), ProcessGUID: fmt.Sprintf("ORG-%08d", i), Time: now}
	}
	var it Evidence
	if _, err := it.normalize("edr", now); err == nil {
		t.Fatal("evidence without a hash accepted")
	}
	it = Evidence{Hashes: Hashes{SHA256: sha}, Sightings: []Sighting{sighting(0)}}
	if _, err := it.normalize("edr", now); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for i := 1; i < 3*MaxSightings; i++ {
		o := Evidence{Hashes: Hashes{SHA256: sha}, Sightings: []Sighting{sighting(i), sighting(i - 1)}}
		if _, err := o.normalize("edr", now); err != nil {
			t.Fatal(err)
		}
		if added, _ := it.merge(o); added != 1 {
			t.Fatalf("merge %d added %d sightings, want 1", i, added)
		}
		if i%MaxSightings == 0 {
			b, _ := json.Marshal(it)
			sizes = append(sizes, len(b))
		}
	}
	if len(it.Sightings) != MaxSightings || it.SightingCount != 3*MaxSightings {
		t.Errorf("%d sightings kept, count %d; want %d and %d", len(it.Sightings), it.SightingCount, MaxSightings, 3*MaxSightings)
	}
	if last := it.Sightings[len(it.Sightings)-1]; last.ProcessGUID != fmt.Sprintf("ORG-%08d", 3*MaxSightings-1) {
		t.Errorf("latest sighting %+v was not kept", last)
	}
	if len(sizes) >= 2 && sizes[len(sizes)-1] > sizes[0]+sizes[0]/20 {
		t.Errorf("stored size grows with the history: %v", sizes)
	}
	// One evidence record with more sightings than the bound keeps the latest too.
	big := Evidence{Hashes: Hashes{SHA256: sha}}
	for i := range MaxSightings + 10 {
		big.Sightings = append(big.Sightings, sighting(i))
	}
	if _, err := big.normalize("edr", now); err != nil {
		t.Fatal(err)
	}
	if len(big.Sightings) != MaxSightings || big.SightingCount != MaxSightings+10 || big.Sightings[0].ProcessGUID != "ORG-00000010" {
		t.Errorf("big evidence: %d kept, count %d, first %s", len(big.Sightings), big.SightingCount, big.Sightings[0].ProcessGUID)
	}
}
