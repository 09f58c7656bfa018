package carbonblackconn_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// Content whose hash differs from the requested one is a truncated copy only
// when UBS says the file is larger and holds exactly what was delivered; any
// other mismatch is refused as corrupt, never handed on.
func TestFetchRefusesWrongContent(t *testing.T) {
	fake, _ := newFake(t, carbonblacktest.WithTruncation(4096))
	real := bytes.Repeat([]byte("MZ real malware "), 2000)
	sha := sha256Hex(real)
	wrong := []byte("17 unrelated byte")
	short := func() io.Reader { return bytes.NewReader(wrong) }
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    carbonblacktest.Binary
	}{
		// UBS says the file is the 17 bytes it delivered: not truncated.
		{"same size", carbonblacktest.Binary{SHA256: sha, Content: wrong}},
		// UBS says the file is larger and holds 4096 bytes, but delivered 17.
		{"not the truncation limit", carbonblacktest.Binary{SHA256: sha, Size: int64(len(real)), Open: short}},
	} {
		if _, err := fake.AddBinary(c.b); err != nil {
			t.Fatal(err)
		}
		bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := bin.Fetch(context.Background(), sha, "x.exe")
		if err == nil {
			s.Body.Close()
		}
		if !connector.IsPermanent(err) || !errors.Is(err, carbonblackconn.ErrCorruptSample) {
			t.Errorf("%s: Fetch = truncated %v, %v; want a permanent ErrCorruptSample", c.name, s.Truncated, err)
		}
	}
	// UBS without metadata for the file: corrupt too.
	fake.InjectFault(carbonblacktest.Fault{Path: "/ubs/v1/orgs/", Method: "GET", Status: 404, Times: 1})
	if _, err := bin.Fetch(context.Background(), sha, ""); !errors.Is(err, carbonblackconn.ErrCorruptSample) {
		t.Errorf("no metadata: %v, want ErrCorruptSample", err)
	}
}

// A corrupt UBS copy makes the engine take the file from the next source,
// and the wrong content is never submitted.
func TestPipelineSubmitsNoCorruptContent(t *testing.T) {
	fake, clock := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-1", OS: "WINDOWS"})
	real := []byte("MZ the file the alert is about")
	sha := sha256Hex(real)
	if _, err := fake.AddBinary(carbonblacktest.Binary{SHA256: sha, Content: []byte("17 unrelated byte")}); err != nil {
		t.Fatal(err)
	}
	fake.AddAlert(carbonblack.Alert{ID: "a1", DeviceID: carbonblack.FlexInt(dev.ID), DeviceOS: "WINDOWS", ProcessSHA256: sha,
		ProcessEffectiveReputation: "NOT_LISTED", ProcessName: `c:\x.exe`, BackendTimestamp: ts(t0.Add(-time.Minute))})
	for _, backup := range []bool{false, true} {
		src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{Window: carbonblackconn.WindowOptions{Now: clock.Now}})
		if err != nil {
			t.Fatal(err)
		}
		sources := []connector.Source{src}
		if backup {
			other := connectortest.NewSource("backup")
			other.AddFile(real)
			sources = append(sources, other)
		}
		an := connectortest.NewAnalyzer("sandbox")
		p, err := connector.New(connector.Config{Store: memstore.New(), Sources: sources, Analyzer: an})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		subs := an.Submissions()
		switch {
		case !backup && (len(subs) != 0 || sum.Failures[connector.StageFetch] != 1):
			t.Errorf("only UBS: %d submissions, failures %v; want none and a fetch dead letter", len(subs), sum.Failures)
		case backup && (len(subs) != 1 || subs[0].Hashes.SHA256 != sha):
			t.Errorf("with a second source: submissions %+v; want the real file once", subs)
		}
	}
}

// A damaged archive (a cut download) is downloaded again a few times; one
// over the size limit is given up at once.
func TestFetchArchiveFaults(t *testing.T) {
	fake, _ := newFake(t)
	content := bytes.Repeat([]byte("MZ archive "), 500)
	sha := seedBinary(t, fake, content)
	fetch := func(opts ...carbonblack.Option) (connector.Sample, error) {
		bin, err := carbonblackconn.NewBinaries(fake.Client(opts...), carbonblackconn.BinariesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fake.ResetRequests()
		s, err := bin.Fetch(context.Background(), sha, "")
		if err == nil {
			s.Body.Close()
		}
		return s, err
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/cdc-file-storage/", Malformed: true, Times: 2})
	if s, err := fetch(); err != nil || s.Truncated || s.Size != int64(len(content)) {
		t.Errorf("two cut downloads: %+v, %v; want the sample on the third", s, err)
	}
	if n := fake.CountRequests("GET", "/cdc-file-storage/"); n != 3 {
		t.Errorf("downloads = %d, want 3", n)
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/cdc-file-storage/", Malformed: true})
	if _, err := fetch(); !connector.IsPermanent(err) || !errors.Is(err, carbonblackconn.ErrCorruptSample) {
		t.Errorf("always cut: %v, want a permanent ErrCorruptSample", err)
	}
	if n := fake.CountRequests("GET", "/cdc-file-storage/"); n != 3 {
		t.Errorf("downloads of an always cut archive = %d, want 3", n)
	}
	fake.ClearFaults()
	if _, err := fetch(carbonblack.WithMaxSampleBytes(100)); !connector.IsPermanent(err) || !errors.Is(err, carbonblack.ErrResponseTooLarge) {
		t.Errorf("over the limit: %v, want a permanent ErrResponseTooLarge", err)
	}
	if n := fake.CountRequests("GET", "/cdc-file-storage/"); n != 1 {
		t.Errorf("downloads over the limit = %d, want 1", n)
	}
}

// The sample cap applies to the sample: a file of exactly the cap, which does not compress, arrives although the
// zip around it is larger; one byte more is a permanent failure after one download.
func TestSampleCapAppliesToTheSample(t *testing.T) {
	fake, _ := newFake(t)
	content := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	sha := seedBinary(t, fake, content)
	fetch := func(limit int64) (connector.Sample, error) {
		bin, err := carbonblackconn.NewBinaries(fake.Client(carbonblack.WithMaxSampleBytes(limit)), carbonblackconn.BinariesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fake.ResetRequests()
		s, err := bin.Fetch(context.Background(), sha, "")
		if err == nil {
			n, rerr := io.Copy(io.Discard, s.Body)
			s.Body.Close()
			if rerr != nil || n != int64(len(content)) {
				t.Errorf("read %d bytes, %v", n, rerr)
			}
		}
		return s, err
	}
	if _, err := fetch(int64(len(content))); err != nil {
		t.Errorf("a sample of exactly the cap: %v", err)
	}
	if _, err := fetch(int64(len(content)) - 1); !connector.IsPermanent(err) || !errors.Is(err, carbonblack.ErrResponseTooLarge) {
		t.Errorf("one byte over the cap: %v, want a permanent ErrResponseTooLarge", err)
	}
	if n := fake.CountRequests("GET", "/cdc-file-storage/"); n != 1 {
		t.Errorf("downloads over the limit = %d, want 1", n)
	}
}
