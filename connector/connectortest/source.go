package connectortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/soarkit/soarkit/connector"
)

// ErrNoFile is returned (as a permanent error) by Source.Fetch for a file it does not hold.
var ErrNoFile = errors.New("connectortest: file not held by this source")

// Source is an in-memory connector.Source and connector.Fetcher. It delivers the evidence added with Add in batches
// of BatchSize, using the index of the next evidence as its checkpoint, and serves the files added with AddFile.
type Source struct {
	name string
	// BatchSize is the number of evidence records per Collect (default 100).
	BatchSize int
	// Finite makes Collect return connector.ErrEndOfInput once everything was delivered, instead of empty batches.
	Finite bool
	// Faults, when set, injects failures into Collect and Fetch.
	Faults *Faults

	mu       sync.Mutex
	evidence []connector.Evidence
	files    map[string]file // by every hash of the evidence
	collects int
	fetches  int
}

type file struct {
	content   []byte
	truncated bool
	announce  bool // the sample carries the hashes of what it delivers
}

// NewSource returns a source with the given name and evidence.
func NewSource(name string, evidence ...connector.Evidence) *Source {
	return &Source{name: name, evidence: evidence, files: map[string]file{}}
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Add appends evidence for later Collect calls.
func (s *Source) Add(evidence ...connector.Evidence) {
	s.mu.Lock()
	s.evidence = append(s.evidence, evidence...)
	s.mu.Unlock()
}

// AddFile makes the source able to deliver content for evidence with any of content's hashes.
func (s *Source) AddFile(content []byte) connector.Hashes {
	h := HashesOf(content)
	s.addFile(h, file{content: content})
	return h
}

// AddTruncatedFile makes the source deliver only the first keep bytes of full, flagged as truncated (as Carbon
// Black's binary store does for big files). It returns the hashes of the full file and of the delivered part; the
// sample carries the delivered part's hashes when announce is true.
func (s *Source) AddTruncatedFile(full []byte, keep int, announce bool) (fullHashes, partHashes connector.Hashes) {
	fullHashes, partHashes = HashesOf(full), HashesOf(full[:keep])
	s.addFile(fullHashes, file{content: full[:keep], truncated: true, announce: announce})
	return fullHashes, partHashes
}

func (s *Source) addFile(h connector.Hashes, f file) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range []string{h.SHA256, h.SHA1, h.MD5} {
		s.files[v] = f
	}
}

// Collects returns the number of Collect calls so far; Fetches the number of Fetch calls.
func (s *Source) Collects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.collects
}

// Fetches returns the number of Fetch calls so far.
func (s *Source) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Collect delivers the next batch after the checkpoint (a decimal index).
func (s *Source) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	if err := s.Faults.before(ctx, "collect "+s.name); err != nil {
		return connector.Batch{}, err
	}
	from := 0
	if len(cp) > 0 {
		n, err := strconv.Atoi(string(cp))
		if err != nil || n < 0 {
			return connector.Batch{}, connector.Permanent(fmt.Errorf("connectortest: bad checkpoint %q", cp))
		}
		from = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collects++
	size := s.BatchSize
	if size <= 0 {
		size = 100
	}
	if from >= len(s.evidence) && s.Finite {
		return connector.Batch{}, connector.ErrEndOfInput
	}
	to := min(from+size, len(s.evidence))
	from = min(from, to)
	batch := connector.Batch{
		Evidence: cloneEvidence(s.evidence[from:to]),
		Next:     connector.Checkpoint(strconv.Itoa(to)),
		More:     to < len(s.evidence),
	}
	return batch, nil
}

// Fetch delivers the file of ev if the source holds it.
func (s *Source) Fetch(ctx context.Context, ev connector.Evidence) (connector.Sample, error) {
	if err := s.Faults.before(ctx, "fetch "+s.name); err != nil {
		return connector.Sample{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	for _, h := range []string{ev.Hashes.SHA256, ev.Hashes.SHA1, ev.Hashes.MD5} {
		f, ok := s.files[h]
		if h == "" || !ok {
			continue
		}
		sample := connector.Sample{
			Body:      io.NopCloser(bytes.NewReader(f.content)),
			Name:      ev.FileName,
			Size:      int64(len(f.content)),
			Truncated: f.truncated,
		}
		if f.announce {
			sample.Hashes = HashesOf(f.content)
		}
		return sample, nil
	}
	return connector.Sample{}, connector.Permanent(fmt.Errorf("%s: %w", ev.Hashes.SHA256, ErrNoFile))
}

func cloneEvidence(in []connector.Evidence) []connector.Evidence {
	out := make([]connector.Evidence, len(in))
	for i, ev := range in {
		ev.Sightings = append([]connector.Sighting(nil), ev.Sightings...)
		out[i] = ev
	}
	return out
}
