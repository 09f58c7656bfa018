package zipx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestSpoolMemoryAndFile(t *testing.T) {
	archive := readTestdata(t, "aes256-deflated.zip") // 10577 bytes
	tests := []struct {
		name string
		opts []Option
		file bool
	}{
		{"memory", nil, false},
		{"file", []Option{WithSpoolMemory(4096)}, true},
		{"file always", []Option{WithSpoolMemory(-1)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := append([]Option{WithTempDir(dir), WithPassword("secret")}, tt.opts...)
			// OneByteReader: the body arrives in the smallest pieces.
			r, err := Spool(t.Context(), iotest.OneByteReader(bytes.NewReader(archive)), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, isFile := r.ra.(*spoolFile); isFile != tt.file {
				t.Fatalf("spooled to a file: %v, want %v", isFile, tt.file)
			}
			if tt.file && runtime.GOOS != "windows" {
				if names := dirNames(t, dir); len(names) != 0 {
					t.Errorf("spool file still linked while open: %v", names)
				}
			}
			got, err := readEntry(lookup(t, r, "numbers.txt"), "secret")
			if err != nil || !bytes.Equal(got, numbersTxt) {
				t.Fatalf("numbers.txt: %d bytes, %v", len(got), err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("temp dir not empty after Close: %v", names)
			}
			if tt.file {
				_, err := readEntry(lookup(t, r, "numbers.txt"), "secret")
				wantErr(t, err, os.ErrClosed)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSpoolLimit(t *testing.T) {
	archive := readTestdata(t, "aes256-deflated.zip")
	for _, mem := range []int64{-1, 1 << 20} {
		dir := t.TempDir()
		_, err := Spool(t.Context(), bytes.NewReader(archive), WithMaxArchiveBytes(10000), WithSpoolMemory(mem), WithTempDir(dir))
		wantLimit(t, err, LimitArchiveBytes)
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("temp dir not empty after a failed Spool: %v", names)
		}
	}
	// Exactly at the limit is fine.
	r, err := Spool(t.Context(), bytes.NewReader(archive), WithMaxArchiveBytes(int64(len(archive))), WithSpoolMemory(-1), WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

func TestSpoolErrors(t *testing.T) {
	archive := readTestdata(t, "aes256-deflated.zip")
	dir := t.TempDir()

	// A dropped connection is the source's error, not a corrupt archive.
	errDropped := errors.New("connection reset by peer")
	src := io.MultiReader(bytes.NewReader(archive[:5000]), iotest.ErrReader(errDropped))
	_, err := Spool(t.Context(), src, WithSpoolMemory(-1), WithTempDir(dir))
	wantErr(t, err, errDropped)
	if errors.Is(err, ErrCorrupt) {
		t.Errorf("source error reported as corrupt: %v", err)
	}

	// A body that ends early is a corrupt (truncated) archive.
	_, err = Spool(t.Context(), bytes.NewReader(archive[:5000]), WithTempDir(dir))
	wantErr(t, err, ErrCorrupt)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Spool(ctx, bytes.NewReader(archive), WithTempDir(dir))
	wantErr(t, err, context.Canceled)

	// Cancelled part-way through a long body.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	body := &cancelAfter{r: bytes.NewReader(make([]byte, 4<<20)), n: 1 << 20, cancel: cancel}
	_, err = Spool(ctx, body, WithTempDir(dir))
	wantErr(t, err, context.Canceled)

	_, err = Spool(t.Context(), bytes.NewReader(archive), WithTempDir(dir+"/missing"), WithSpoolMemory(-1))
	wantErr(t, err, os.ErrNotExist)

	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("temp dir not empty after failed Spools: %v", names)
	}
}

// cancelAfter calls cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestOpenOwned(t *testing.T) {
	dir := t.TempDir()
	r, err := Spool(t.Context(), bytes.NewReader(readTestdata(t, "vmray-sample.zip")),
		WithPassword("infected"), WithSpoolMemory(-1), WithTempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.SingleFile()
	if err != nil {
		t.Fatal(err)
	}
	other := openTestdata(t, "cbc-ubs.zip")
	if _, err := other.OpenOwned(f); err == nil {
		t.Error("OpenOwned accepted a File of another Reader")
	}
	rc, err := r.OpenOwned(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, seq(2000)) {
		t.Fatalf("sample: %d bytes, %v", len(got), err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	// The Reader is closed with the entry: its spool file is gone.
	_, err = readEntry(f, "infected")
	wantErr(t, err, os.ErrClosed)
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("temp dir not empty: %v", names)
	}

	// A failed open leaves the Reader usable.
	r2, err := Spool(t.Context(), bytes.NewReader(readTestdata(t, "vmray-sample.zip")), WithPassword("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	f2, _ := r2.SingleFile()
	_, err = r2.OpenOwned(f2)
	wantErr(t, err, ErrWrongPassword)
	if _, err := readEntry(f2, "infected"); err != nil {
		t.Errorf("Reader unusable after a failed OpenOwned: %v", err)
	}
}

func TestSpoolUnlimited(t *testing.T) {
	archive := readTestdata(t, "cbc-ubs.zip")
	for _, opts := range [][]Option{
		{WithMaxArchiveBytes(Unlimited), WithSpoolMemory(math.MaxInt64)},
		{WithMaxArchiveBytes(Unlimited), WithSpoolMemory(-1), WithTempDir(t.TempDir())},
	} {
		r, err := Spool(t.Context(), bytes.NewReader(archive), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readEntry(lookup(t, r, "filedata"), ""); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
}
