package carbonblack_test

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// generated returns a binary of size pseudo-random bytes that is never held
// in memory.
func generated(size int64) carbonblacktest.Binary {
	return carbonblacktest.Binary{Size: size, Open: func() io.Reader {
		return io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), size)
	}}
}

// heapPeak samples the heap until stop is called and returns the largest
// growth over the starting heap.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// downloadOnce fetches a link for sha, streams the sample through unzip and
// hashing, and verifies it.
func downloadOnce(ctx context.Context, c *carbonblack.Client, sha string) (int64, error) {
	links, err := c.UBS.DownloadLinks(ctx, time.Minute, sha)
	if err != nil {
		return 0, err
	}
	smp, err := c.UBS.OpenLink(ctx, links.Found[0])
	if err != nil {
		return 0, err
	}
	defer smp.Close()
	n, err := io.Copy(io.Discard, smp)
	if err != nil {
		return n, err
	}
	return n, smp.Verify()
}

// TestUBSStreamingHeapBounded streams a 24 MiB sample through the spool,
// unzip and hashing; the full 200 MiB figure is BenchmarkUBSDownload200MiB.
func TestUBSStreamingHeapBounded(t *testing.T) {
	const size = 24 << 20
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithTruncation(0))
	sha, err := fake.AddBinary(generated(size))
	if err != nil {
		t.Fatal(err)
	}
	c := fake.Client(carbonblack.WithSampleSpool(t.TempDir(), 1<<20))
	stop := heapPeak()
	n, err := downloadOnce(context.Background(), c, sha)
	peak := stop()
	if err != nil || n != size {
		t.Fatalf("downloaded %d bytes: %v", n, err)
	}
	if peak > 32<<20 {
		t.Fatalf("heap grew by %d MiB while streaming %d MiB", peak>>20, size>>20)
	}
	t.Logf("heap growth %.1f MiB for a %d MiB sample", float64(peak)/(1<<20), size>>20)
}

func BenchmarkUBSDownload200MiB(b *testing.B) {
	const size = 200 << 20
	fake := carbonblacktest.NewServer(b, carbonblacktest.WithTruncation(0))
	sha, err := fake.AddBinary(generated(size))
	if err != nil {
		b.Fatal(err)
	}
	c := fake.Client(carbonblack.WithSampleSpool(b.TempDir(), 1<<20))
	b.SetBytes(size)
	var worst uint64
	b.ResetTimer()
	for b.Loop() {
		stop := heapPeak()
		n, err := downloadOnce(context.Background(), c, sha)
		peak := stop()
		if err != nil || n != size {
			b.Fatalf("downloaded %d bytes: %v", n, err)
		}
		worst = max(worst, peak)
	}
	b.ReportMetric(float64(worst)/(1<<20), "MiB-heap-growth")
	if worst > 32<<20 {
		b.Fatalf("heap grew by %d MiB", worst>>20)
	}
}
