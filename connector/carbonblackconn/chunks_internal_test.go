package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// inChunks runs up to its parallel limit of chunks at once: each call waits until the first 8 have all started, so a
// version that ran them one after another would never get past the first (and the test fails at its deadline).
func TestInChunksRunsChunksSideBySide(t *testing.T) {
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf("%064x", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	inflight, most, calls, seen := 0, 0, 0, 0
	all8 := make(chan struct{})
	err := inChunks(items, 100, 8, func(chunk []string) error {
		mu.Lock()
		calls++
		seen += len(chunk)
		inflight++
		most = max(most, inflight)
		if calls == 8 {
			close(all8)
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			inflight--
			mu.Unlock()
		}()
		select {
		case <-all8:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil || calls != 10 || seen != 1000 || most != 8 {
		t.Errorf("err %v, %d calls over %d items, at most %d at once; want 10 calls over 1000 items, 8 at once", err, calls, seen, most)
	}
	boom := errors.New("boom")
	calls = 0
	err = inChunks(items[:250], 100, 8, func([]string) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Errorf("a failing chunk: err %v after %d calls, want boom and every chunk tried", err, calls)
	}
}
