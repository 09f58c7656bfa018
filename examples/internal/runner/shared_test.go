package runner

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
	"github.com/soarkit/soarkit/examples/internal/config"
)

func TestStateURLValidation(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"postgres://soarkit:hunter2@db.example:5432/soc", "holds a password"},
		{"mysql://db.example/soc", `scheme "mysql"`},
		{"postgres://soar kit@%zz", "not a URL"},
	} {
		s := DefaultSettings("test-conn")
		s.State.URL = tc.url
		var p config.Problems
		s.Validate("run", &p)
		err := p.Err()
		if err == nil || !strings.Contains(err.Error(), "run.state.url") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a problem with run.state.url saying %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the problem shows the password: %v", err)
		}
	}
	s := DefaultSettings("test-conn")
	s.State.URL = "postgres://soarkit@db.example:5432/soc?sslmode=verify-full"
	s.State.LeaseTTL = 0
	var p config.Problems
	s.Validate("run", &p)
	if err := p.Err(); err != nil {
		t.Errorf("a valid URL: %v", err)
	}
}

// countingRecorder is a recorder safe for the replicas of one test.
type countingRecorder struct {
	mu    sync.Mutex
	calls map[string]int
}

func (r *countingRecorder) Name() string           { return "recorder" }
func (r *countingRecorder) Scope() connector.Scope { return connector.ScopeEvidence }
func (r *countingRecorder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[f.Evidence.Hashes.SHA256]++
	return connector.Result{Status: connector.Acted}, nil
}

// With run.state.url the example keeps its state in PostgreSQL, the password coming from the environment: two
// replicas run at once and act once per file, and the state command works on the database.
func TestStateInPostgres(t *testing.T) {
	u, err := url.Parse(pgstoretest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	t.Setenv("TEST_CONN_RUN_STATE_URL", u.String())
	t.Setenv("TEST_CONN_RUN_STATE_PASSWORD", password)
	if password == "" {
		// The test database trusts local connections: any password is accepted, so the setting is still read.
		t.Setenv("TEST_CONN_RUN_STATE_PASSWORD", "from-the-environment")
	}
	t.Setenv("TEST_CONN_RUN_STATE_SCHEMA", pgstoretest.NewSchema(t))
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	rec := &countingRecorder{calls: map[string]int{}}
	var demo bool
	app := testApp(nil, &demo)
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		return Parts{Sources: []connector.Source{listSource{files: 5}}, Analyzer: connector.PassThrough("source"),
			Responders: []connector.Responder{rec}}, nil
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if code, _, errOut := runMain(t, app, "-once", "-log-level", "warn"); code != ExitOK {
				t.Errorf("replica: exit %d\n%s", code, errOut)
			}
		})
	}
	wg.Wait()
	if code, _, errOut := runMain(t, app, "-once", "-log-level", "warn"); code != ExitOK {
		t.Errorf("last run: exit %d\n%s", code, errOut)
	}
	if len(rec.calls) != 5 {
		t.Errorf("acted on %d files, want 5", len(rec.calls))
	}
	for sha, n := range rec.calls {
		if n != 1 {
			t.Errorf("acted %d times on %s", n, sha)
		}
	}
	code, out, errOut := runMain(t, app, "state", "list", "-state", "done")
	if code != ExitOK || !strings.Contains(out, "5 item(s)") {
		t.Errorf("state list on the database: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runMain(t, app, "-once", "-dry-run"); code == ExitOK || !strings.Contains(errOut, "run.state.url") {
		t.Errorf("dry run on the database: exit %d, %s; want it refused", code, errOut)
	}
}
