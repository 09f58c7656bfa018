package vmraytest

import "github.com/soarkit/soarkit/internal/fakehttp"

// Recording bounds what the fake keeps of the requests it sees (see SetRecording).
type Recording = fakehttp.Recording

// SetRecording bounds what the fake keeps of the requests it sees from now
// on, for load tests: by default the newest 100,000 requests with the first
// MiB of each body. The requests per route are always counted (Counts).
func (s *Server) SetRecording(r Recording) { s.mw.SetRecording(r) }

// Counts returns the number of requests per route since the last
// ResetRequests, kept or not, by "METHOD /route" with ids as "{}".
func (s *Server) Counts() map[string]int { return s.mw.Counts() }

// SetTiming changes how submissions made from now on, and those still
// running, progress (see WithTiming).
func (s *Server) SetTiming(t Timing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.timing = t
}
