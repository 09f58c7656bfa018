package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"
)

// stackSampler counts, every interval, what the engine's goroutines are doing (stage and activity, from their
// stacks), for finding where the flow waits: LOADBENCH_STACKS=1 prints the mean count of each over the run,
// LOADBENCH_STACKS_EACH=1 every sample as well. Activities: http (a vendor call), store (a store transaction), send (a
// handoff to the next stage), batch-wait (waiting for a responder's batch), cpu (anything else); "later" goroutines
// wait for a poll or retry time, "pump" ones hand queued jobs to the await or respond stage.
type stackSampler struct {
	stop, done chan struct{}
	mu         sync.Mutex
	sums       map[string]float64
	samples    int
}

// startStackSampler samples every interval until report is called.
func startStackSampler(every time.Duration) *stackSampler {
	s := &stackSampler{stop: make(chan struct{}), done: make(chan struct{}), sums: map[string]float64{}}
	go func() {
		defer close(s.done)
		var buf bytes.Buffer
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(every):
			}
			buf.Reset()
			pprof.Lookup("goroutine").WriteTo(&buf, 2)
			counts := map[string]int{}
			for g := range strings.SplitSeq(buf.String(), "\n\n") {
				if c := classify(g); c != "" {
					counts[c]++
				}
			}
			s.mu.Lock()
			for k, v := range counts {
				s.sums[k] += float64(v)
			}
			s.samples++
			if os.Getenv("LOADBENCH_STACKS_EACH") != "" {
				fmt.Fprintf(os.Stderr, "%s %v\n", time.Now().Format("15:04:05.000"), counts)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// report stops the sampler and returns the mean count of each stage and activity.
func (s *stackSampler) report() string {
	close(s.stop)
	<-s.done
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s.sums)) {
		out = append(out, fmt.Sprintf("%-40s %7.1f", k, s.sums[k]/float64(s.samples)))
	}
	return strings.Join(out, "\n")
}

// classify names the stage and activity of one goroutine of a debug=2 goroutine dump, or "" when it is none of the
// engine's.
func classify(g string) string {
	lines := strings.Split(g, "\n")
	var funcs []string
	for i, l := range lines {
		if i == 0 || strings.HasPrefix(l, "\t") {
			continue
		}
		funcs = append(funcs, l)
	}
	role := ""
	for i, f := range funcs {
		switch {
		case strings.Contains(f, "connector.(*engine).spawn.func"):
			// A worker waiting for a job shows no frame above its loop (the runtime's are left out of the dump).
			role = "idle"
			if i > 0 {
				role = funcs[i-1]
			}
		case strings.Contains(f, "connector.(*engine).later.func"):
			role = "later"
		case strings.Contains(f, "connector.(*handoff).pump"):
			role = "pump"
		case strings.Contains(f, "connector.(*batcher).loop"):
			role = "batchloop"
		case strings.Contains(f, "connector.(*engine).collect"):
			role = "collect"
		}
		if role != "" {
			break
		}
	}
	if role == "" {
		return ""
	}
	if role == "idle" || role == "later" || role == "pump" {
		return role
	}
	if i := strings.Index(role, "(*engine)."); i >= 0 {
		role = role[i+len("(*engine)."):]
	}
	if i := strings.Index(role, "("); i > 0 {
		role = role[:i]
	}
	act := "cpu"
	switch {
	case strings.Contains(g, "(*batcher).do"):
		act = "batch-wait"
	case strings.Contains(g, "connector.(*engine).send"):
		act = "send"
	case strings.Contains(g, "bbolt"):
		act = "store"
	case strings.Contains(g, "net/http"):
		act = "http"
	case strings.Contains(g, "time.Sleep"), strings.Contains(g, "time.After"):
		act = "sleep"
	}
	return role + "/" + act
}
