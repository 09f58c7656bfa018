package console

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/ops"
)

// Path is where the console is mounted on the ops server.
const Path = "/console/"

// maxListed bounds the rows of the items page; a search narrows it.
const maxListed = 200

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Console.
type Options struct {
	// Name is the connector's name, shown in every page's title.
	Name string
	// Store is the connector's state.
	Store connector.Store
	// Sources are the names of the connector's sources, whose checkpoints the overview shows.
	Sources []string
	// Activity holds the recent work, component and vendor health (nil: an empty one, so the overview shows only
	// what the store holds).
	Activity *Activity
	// Auth says who may use the console (see Auth).
	Auth Auth
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the operator's actions and the errors of pages (default: discard).
	Logger *slog.Logger
}

// Console is the operator's web console, an http.Handler for the paths under Path.
type Console struct {
	opts  Options
	ops   ops.StoreOps
	pages map[string]*template.Template
	csrf  *csrf
	mux   *http.ServeMux
}

// New returns the console of a connector's state. It fails only when Store is nil or a template is broken.
func New(opts Options) (*Console, error) {
	if opts.Store == nil {
		return nil, errors.New("console: no store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Activity == nil {
		opts.Activity = NewActivity(opts.Now)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{opts: opts, ops: ops.StoreOps{Store: opts.Store, Now: opts.Now}, pages: map[string]*template.Template{},
		csrf: newCSRF(Path)}
	for _, name := range []string{"overview", "items", "item", "failed", "error"} {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path+"{$}", c.overview)
	mux.HandleFunc("GET "+Path+"items", c.items)
	mux.HandleFunc("GET "+Path+"items/{key}", c.item)
	mux.HandleFunc("POST "+Path+"items/{key}/retry", c.retryItem)
	mux.HandleFunc("GET "+Path+"failed", c.failed)
	mux.HandleFunc("POST "+Path+"failed/retry", c.retryFailed)
	// {file}: files only, no directory listing
	mux.Handle("GET "+Path+"static/{file}", http.StripPrefix(Path+"static/", http.FileServerFS(static)))
	mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, errors.New("no such page"))
	})
	c.mux = mux
	return c, nil
}

// ServeHTTP checks the credentials, sets the security headers and serves the page.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	if !c.opts.Auth.allowed(r) {
		if c.opts.Auth.open() {
			http.Error(w, "the console answers only to a loopback host name", http.StatusForbidden)
			return
		}
		c.opts.Auth.challenge(w)
		http.Error(w, "the console needs credentials", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := c.csrf.check(r); err != nil {
			c.opts.Logger.Warn("console: refused a form", "path", r.URL.Path, "error", err)
			c.fail(w, r, http.StatusForbidden, err)
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// page is what every template receives.
type page struct {
	Name   string
	Title  string
	Active string
	Base   string
	CSRF   string
	Now    time.Time
	// Notice is a message about the operator's last action.
	Notice string
	Data   any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Name: c.opts.Name, Title: title, Active: name, Base: Path, CSRF: c.csrf.token(w, r), Now: c.opts.Now(),
		Notice: notice(r), Data: data}
	var b strings.Builder
	if err := c.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		c.opts.Logger.Error("console: rendering a page", "page", name, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// fail renders the error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		c.opts.Logger.Error("console: a page failed", "path", r.URL.Path, "error", err)
	}
	c.render(w, r, status, "error", http.StatusText(status), err.Error())
}

// redirect answers a form with 303 See Other to path, telling the page how many items were requeued.
func redirect(w http.ResponseWriter, r *http.Request, path string, requeued int) {
	http.Redirect(w, r, path+"?requeued="+strconv.Itoa(requeued), http.StatusSeeOther)
}

// notice is the message about the operator's last action, from a fixed set (a link cannot make the console say
// anything else).
func notice(r *http.Request) string {
	n, err := strconv.Atoi(r.URL.Query().Get("requeued"))
	switch {
	case err != nil || n < 0:
		return ""
	case n == 1:
		return "Requeued 1 item: the next cycle works on it again."
	}
	return fmt.Sprintf("Requeued %d items: the next cycle works on them again.", n)
}

// sourceView is one source on the overview.
type sourceView struct {
	Name          string
	Checkpoint    string
	LastCollected time.Time
	Lag           time.Duration
	Health        *connector.ComponentStatus
}

type stateCount struct {
	State connector.State
	Count int
}

type componentView struct {
	Name string
	connector.ComponentStatus
}

type overviewData struct {
	Sources     []sourceView
	States      []stateCount
	Total       int
	Waiting     int
	OldestOpen  time.Time
	DeadLetters int
	Charts      []chart
	Window      time.Duration
	Components  []componentView
	Vendors     []VendorHealth
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	snap := c.opts.Activity.Snapshot()
	counts, err := connector.CountItems(r.Context(), c.opts.Store)
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	d := overviewData{Waiting: counts.Waiting, OldestOpen: counts.OldestOpen, DeadLetters: counts.ByState[connector.StateFailed],
		Charts: overviewCharts(snap.Minutes), Window: Window, Vendors: snap.Vendors}
	for _, st := range connector.States() {
		d.States = append(d.States, stateCount{st, counts.ByState[st]})
		d.Total += counts.ByState[st]
	}
	names := slices.Clone(c.opts.Sources)
	for name := range snap.LastCollected {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	err = c.opts.Store.View(r.Context(), func(tx connector.Tx) error {
		d.Sources = d.Sources[:0]
		for _, name := range names {
			cp, err := tx.Checkpoint(name)
			if err != nil {
				return err
			}
			s := sourceView{Name: name, Checkpoint: showCheckpoint(cp), LastCollected: snap.LastCollected[name]}
			if !s.LastCollected.IsZero() {
				s.Lag = snap.At.Sub(s.LastCollected).Round(time.Second)
			}
			if h, ok := snap.Components[name]; ok && h.Kind == connector.KindSource {
				s.Health = &h
			}
			d.Sources = append(d.Sources, s)
		}
		return nil
	})
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	for name, h := range snap.Components {
		d.Components = append(d.Components, componentView{name, h})
	}
	kindOrder := []connector.ComponentKind{connector.KindSource, connector.KindAnalyzer, connector.KindResponder}
	slices.SortFunc(d.Components, func(a, b componentView) int {
		return cmp.Or(cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	c.render(w, r, http.StatusOK, "overview", "Overview", d)
}

// showCheckpoint renders a checkpoint as text when it is printable, else as hexadecimal, at most 160 characters.
func showCheckpoint(cp connector.Checkpoint) string {
	if cp == nil {
		return ""
	}
	s := string(cp)
	printable := strconv.CanBackquote(s) && !strings.ContainsRune(s, '\ufffd')
	if !printable {
		s = fmt.Sprintf("%x", cp)
	}
	if len(s) > 160 {
		s = s[:157] + "…"
	}
	return s
}

// itemsQuery is the items page's search.
type itemsQuery struct {
	// Q matches any hash of the file (a part of it) or its name (case-insensitive).
	Q string
	// State is a state, "open", "waiting" (open items waiting on a backoff) or "" (all).
	State string
	// Verdict is a kind, "none" (no verdict yet) or "" (any).
	Verdict string
	// Device matches a sighting's device name, device id or agent id (a part of it, case-insensitive).
	Device string
}

func (q itemsQuery) match(it connector.Item) bool {
	switch {
	case q.State == stateWaiting && it.Retry == nil:
		return false
	case q.Verdict == "none" && it.Verdict != nil:
		return false
	case q.Verdict != "" && q.Verdict != "none" && (it.Verdict == nil || it.Verdict.Kind.String() != q.Verdict):
		return false
	}
	if q.Q != "" {
		needle := strings.ToLower(q.Q)
		found := strings.Contains(strings.ToLower(it.Evidence.FileName), needle)
		for _, k := range it.HashKeys() {
			found = found || strings.Contains(k.Hex, strings.TrimPrefix(needle, string(k.Kind)+":"))
		}
		if !found {
			return false
		}
	}
	if q.Device != "" {
		needle := strings.ToLower(q.Device)
		for _, s := range it.Evidence.Sightings {
			for _, v := range []string{s.DeviceName, s.DeviceID, s.AgentID} {
				if v != "" && strings.Contains(strings.ToLower(v), needle) {
					return true
				}
			}
		}
		return false
	}
	return true
}

// stateWaiting is the items page's state filter for the open items waiting on a backoff.
const stateWaiting = "waiting"

type itemRow struct {
	connector.Item
	Devices []string
}

type itemsData struct {
	Query    itemsQuery
	States   []connector.State
	Kinds    []string
	Rows     []itemRow
	Matched  int
	Searched int
}

func (c *Console) items(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := itemsQuery{Q: strings.TrimSpace(v.Get("q")), State: v.Get("state"), Verdict: v.Get("verdict"),
		Device: strings.TrimSpace(v.Get("device"))}
	stateQuery := q.State
	if stateQuery == stateWaiting {
		stateQuery = "open"
	}
	states, err := connector.ParseState(stateQuery)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if q.Verdict != "" && q.Verdict != "none" {
		if _, err := connector.ParseKind(q.Verdict); err != nil {
			c.fail(w, r, http.StatusBadRequest, err)
			return
		}
	}
	all, err := connector.ListItems(r.Context(), c.opts.Store, states...)
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	d := itemsData{Query: q, States: connector.States(), Searched: len(all)}
	for _, k := range []connector.Kind{connector.Malicious, connector.Suspicious, connector.Clean, connector.Unknown} {
		d.Kinds = append(d.Kinds, k.String())
	}
	var matched []connector.Item
	for _, it := range all {
		if q.match(it) {
			matched = append(matched, it)
		}
	}
	slices.SortStableFunc(matched, func(a, b connector.Item) int { return b.Updated.Compare(a.Updated) })
	d.Matched = len(matched)
	for _, it := range matched[:min(len(matched), maxListed)] {
		d.Rows = append(d.Rows, itemRow{Item: it, Devices: devices(it.Evidence.Sightings, 3)})
	}
	c.render(w, r, http.StatusOK, "items", "Items", d)
}

// devices returns the distinct device names (else ids) of sightings, at most n.
func devices(ss []connector.Sighting, n int) []string {
	var out []string
	for _, s := range ss {
		name := cmp.Or(s.DeviceName, s.DeviceID, s.AgentID)
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) > n {
		out = append(out[:n], fmt.Sprintf("+%d more", len(out)-n))
	}
	return out
}

type itemData struct {
	connector.ItemDetail
	Hashes []connector.Key
	// Retryable is true for a dead letter and for an open item waiting on a backoff: what a retry changes.
	Retryable bool
}

func (c *Console) item(w http.ResponseWriter, r *http.Request) {
	d, err := c.ops.Show(r.Context(), r.PathValue("key"))
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	c.render(w, r, http.StatusOK, "item", d.Item.Key.String(),
		itemData{ItemDetail: d, Hashes: d.Item.HashKeys(), Retryable: d.Item.State == connector.StateFailed || d.Item.Retry != nil})
}

func (c *Console) retryItem(w http.ResponseWriter, r *http.Request) {
	keys, err := c.ops.Retry(r.Context(), r.PathValue("key"))
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	c.opts.Logger.Info("console: requeued an item", "item", keys[0].String())
	redirect(w, r, Path+"items/"+url.PathEscape(keys[0].String()), len(keys))
}

type failedData struct {
	Items []connector.Item
}

func (c *Console) failed(w http.ResponseWriter, r *http.Request) {
	items, err := connector.ListItems(r.Context(), c.opts.Store, connector.StateFailed)
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	slices.SortStableFunc(items, func(a, b connector.Item) int { return b.Updated.Compare(a.Updated) })
	c.render(w, r, http.StatusOK, "failed", "Dead letters", failedData{items})
}

func (c *Console) retryFailed(w http.ResponseWriter, r *http.Request) {
	keys, err := c.ops.RetryFailed(r.Context())
	if err != nil {
		c.fail(w, r, ops.ErrorStatus(err), err)
		return
	}
	c.opts.Logger.Info("console: requeued every dead letter", "items", len(keys))
	redirect(w, r, Path+"failed", len(keys))
}
