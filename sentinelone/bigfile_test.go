package sentinelone_test

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// noise is a reader of deterministic pseudo-random bytes (xorshift), so big
// files are generated as they stream and never held in memory.
type noise struct{ state uint64 }

func (n *noise) Read(p []byte) (int, error) {
	var b [8]byte
	i := 0
	for ; i+8 <= len(p); i += 8 {
		n.state ^= n.state << 13
		n.state ^= n.state >> 7
		n.state ^= n.state << 17
		binary.LittleEndian.PutUint64(p[i:], n.state)
	}
	if i < len(p) {
		binary.LittleEndian.PutUint64(b[:], n.state*2654435761)
		copy(p[i:], b[:])
	}
	return len(p), nil
}

func noiseSHA1(size int64) string {
	h := sha1.New()
	_, _ = io.Copy(h, io.LimitReader(&noise{state: 88172645463325252}, size))
	return hex.EncodeToString(h.Sum(nil))
}

// heapWatch samples the live heap until stopped and reports the largest
// growth over the starting point.
type heapWatch struct {
	base, peak atomic.Uint64
	stop       chan struct{}
	wg         sync.WaitGroup
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{stop: make(chan struct{})}
	w.base.Store(ms.HeapAlloc)
	w.peak.Store(ms.HeapAlloc)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > w.peak.Load() {
					w.peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	return w
}

func (w *heapWatch) growth() uint64 {
	close(w.stop)
	w.wg.Wait()
	return w.peak.Load() - w.base.Load()
}

// fetchBig runs the whole threat-file flow for a generated file of size
// bytes and returns the heap growth seen meanwhile.
func fetchBig(tb testing.TB, size int64, sum string) uint64 {
	srv := sentinelonetest.NewServer(tb)
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-BIG", IsActive: true})
	th := srv.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: sum, FilePath: `C:\big\disk.img`, FileSize: size},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID}})
	srv.SetThreatFile(th.ID, sentinelonetest.File{Size: size, SHA1: sum,
		Open: func() io.Reader { return &noise{state: 88172645463325252} }})
	c := srv.Client(sentinelone.WithFetchTempDir(tb.TempDir()))

	w := watchHeap()
	f, err := c.Threats.FetchFile(context.Background(), th.ID, sentinelone.FetchOptions{})
	if err != nil {
		w.growth()
		tb.Fatal(err)
	}
	n, err := io.Copy(io.Discard, f)
	f.Close()
	growth := w.growth()
	if err != nil || n != size || !f.Verified() {
		tb.Fatalf("copied %d of %d bytes, verified %v: %v", n, size, f.Verified(), err)
	}
	return growth
}

// TestFetchLargeFileHeapBounded streams a 24 MiB file (stored, ZipCrypto)
// through download, spooling, decryption and the SHA1 check; the heap must
// grow by well under the file's size. The size keeps the test at a few
// seconds under the race detector; BenchmarkFetchFile200MiB measures the
// 200 MiB case (heap growth under 32 MiB, see docs/performance.md).
func TestFetchLargeFileHeapBounded(t *testing.T) {
	const size = 24 << 20
	growth := fetchBig(t, size, noiseSHA1(size))
	if growth > 16<<20 {
		t.Fatalf("heap grew by %d MiB for a %d MiB file", growth>>20, size>>20)
	}
	t.Logf("heap growth %.1f MiB", float64(growth)/(1<<20))
}

func BenchmarkFetchFile200MiB(b *testing.B) {
	const size = 200 << 20
	sum := noiseSHA1(size)
	b.SetBytes(size)
	b.ResetTimer()
	var worst uint64
	for range b.N {
		worst = max(worst, fetchBig(b, size, sum))
	}
	b.ReportMetric(float64(worst)/(1<<20), "heap-growth-MiB")
	if worst > 32<<20 {
		b.Errorf("heap grew by %d MiB", worst>>20)
	}
}
