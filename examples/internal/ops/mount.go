package ops

import "net/http"

// Mount is a handler the ops server serves under a path prefix besides its own endpoints: the web console
// (examples/internal/console) is one.
type Mount struct {
	// Prefix is the path the handler serves, ending in "/" (for example "/console/"): every path under it goes to
	// Handler, unchanged.
	Prefix string
	// Handler serves the paths under Prefix; it checks its own authentication.
	Handler http.Handler
}

// mount registers the mounts on mux, and a redirect from "/" to the first one so an operator who types the ops
// address lands on it.
func mount(mux *http.ServeMux, mounts []Mount) {
	for _, m := range mounts {
		mux.Handle(m.Prefix, m.Handler)
	}
	if len(mounts) > 0 {
		first := mounts[0].Prefix
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, first, http.StatusFound)
		})
	}
}

// ErrorStatus is the HTTP status the state API answers an error of the state operations with: 400 for a bad key or
// state, 404 for no such item, 409 for nothing to retry, 503 for a closed store or a canceled request, else 500.
// The console answers with the same.
func ErrorStatus(err error) int { return errorStatus(err) }
