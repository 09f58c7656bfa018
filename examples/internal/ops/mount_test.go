package ops

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMountServesItsPrefixAndTheRootRedirects(t *testing.T) {
	sub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("sub " + r.URL.Path)) })
	h := Handler(prometheus.NewRegistry(), NewHealth(0), nil, Mount{Prefix: "/console/", Handler: sub})
	for path, want := range map[string]string{"/console/": "sub /console/", "/console/items/x": "sub /console/items/x"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Errorf("GET %s: %d %q, want %q", path, rec.Code, rec.Body.String(), want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/console/" {
		t.Errorf("GET /: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	// the ops endpoints stay
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d", rec.Code)
	}
	// without a mount, / is not found
	rec = httptest.NewRecorder()
	Handler(prometheus.NewRegistry(), NewHealth(0), nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET / without a mount: %d", rec.Code)
	}
}
