package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
)

// The services fakeworld listens for, in base-port order: with -base-port N
// the control API gets N, VMRay N+1, and so on.
func serviceNames() []string {
	return []string{"control", "vmray", "carbonblack", "sentinelone", "proofpoint", "nsx"}
}

// listenPlan maps each service to its listen address ("" = a free port).
type listenPlan map[string]string

// parseListen reads -base-port and the repeatable -listen service=addr.
func parseListen(basePort int, listens []string) (listenPlan, error) {
	plan := listenPlan{}
	if basePort != 0 {
		if basePort < 1 || basePort+len(serviceNames())-1 > 65535 {
			return nil, fmt.Errorf("-base-port %d: needs %d free ports from it, below 65536", basePort, len(serviceNames()))
		}
		for i, n := range serviceNames() {
			plan[n] = "127.0.0.1:" + strconv.Itoa(basePort+i)
		}
	}
	for _, l := range listens {
		name, addr, ok := strings.Cut(l, "=")
		if !ok || !isService(name) {
			return nil, fmt.Errorf("-listen %q: want service=host:port with service one of %s", l, strings.Join(serviceNames(), ", "))
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("-listen %q: %w", l, err)
		}
		plan[name] = addr
	}
	return plan, nil
}

func isService(name string) bool {
	for _, n := range serviceNames() {
		if n == name {
			return true
		}
	}
	return false
}

// stable reports whether every service has a fixed port, so that URLs can
// be printed without starting anything.
func (p listenPlan) stable() bool {
	for _, n := range serviceNames() {
		_, port, err := net.SplitHostPort(p[n])
		if err != nil || port == "0" || port == "" {
			return false
		}
	}
	return true
}

// url is the plain-HTTP base URL a service will have.
func (p listenPlan) url(name string) string { return "http://" + p[name] }

// swapHandler serves whichever handler was stored last, so a reset can
// replace the fakes behind a listener that keeps its port.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// Service is a running fakeworld: the fakes behind listeners whose
// addresses survive resets, the control API and the webhook receiver.
type Service struct {
	tls    bool
	now    func() time.Time
	caFile string

	mu     sync.Mutex
	world  *World
	items  int // load files every world gets (SeedLoad)
	fronts map[string]*fakehttp.Server
	swaps  map[string]*swapHandler
	hooks  *webhookLog
}

// StartService starts the world and its listeners per plan. caFile, when
// not empty, receives the CA certificates (with tls) and is rewritten on
// every reset.
func StartService(plan listenPlan, tls bool, caFile string, now func() time.Time) (*Service, error) {
	w, err := StartWorld(tls, now())
	if err != nil {
		return nil, err
	}
	s := &Service{tls: tls, now: now, caFile: caFile, world: w, fronts: map[string]*fakehttp.Server{},
		swaps: map[string]*swapHandler{}, hooks: &webhookLog{}}
	// The control API starts last: its handlers read the other listeners.
	order := append(serviceNames()[1:], serviceNames()[0])
	for _, name := range order {
		sw := &swapHandler{}
		if name == "control" {
			sw.set(s.controlHandler())
		} else {
			sw.set(w.handler(name))
		}
		// The control API (and its webhook receiver) is plain HTTP on
		// loopback: the examples' webhook client trusts no custom CA.
		srv, err := fakehttp.Start(sw, fakehttp.Options{TLS: tls && name != "control", Addr: plan[name]})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s listener: %w", name, err)
		}
		s.swaps[name], s.fronts[name] = sw, srv
	}
	if err := s.writeCA(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// handler returns one fake's HTTP handler.
func (w *World) handler(name string) http.Handler {
	switch name {
	case "vmray":
		return w.VMRay.Handler()
	case "carbonblack":
		return w.CarbonBlack.Handler()
	case "sentinelone":
		return w.SentinelOne.Handler()
	case "proofpoint":
		return w.Proofpoint.Handler()
	}
	return w.NSX.Handler()
}

// World returns the current world (it changes on reset).
func (s *Service) World() *World {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.world
}

// URL is the stable base URL of a service.
func (s *Service) URL(name string) string { return s.fronts[name].URL() }

// Reset replaces every fake with a freshly seeded one behind the same
// listeners: seeded data, recorded requests, client actions and faults are
// all back to the start.
func (s *Service) Reset() error {
	w, err := StartWorld(s.tls, s.now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	items := s.items
	s.mu.Unlock()
	if items > 0 {
		if err := w.SeedLoad(items, s.now()); err != nil {
			w.Close()
			return err
		}
	}
	s.mu.Lock()
	old := s.world
	s.world = w
	for _, name := range serviceNames()[1:] {
		s.swaps[name].set(w.handler(name))
	}
	s.hooks.reset()
	s.mu.Unlock()
	old.Close()
	return s.writeCA()
}

// SeedLoad adds n load files to the world (World.SeedLoad), and to every
// world a reset makes.
func (s *Service) SeedLoad(n int) error {
	s.mu.Lock()
	s.items = n
	w := s.world
	s.mu.Unlock()
	return w.SeedLoad(n, s.now())
}

// CACertPEM returns every CA the service's TLS listeners use, or nil.
func (s *Service) CACertPEM() []byte {
	if !s.tls {
		return nil
	}
	out := s.World().CACertPEM()
	for _, name := range serviceNames() {
		out = append(out, s.fronts[name].CACertPEM()...)
	}
	return out
}

func (s *Service) writeCA() error {
	if s.caFile == "" || !s.tls {
		return nil
	}
	return os.WriteFile(s.caFile, s.CACertPEM(), 0o644)
}

// endpoints are the URLs the examples are pointed at.
func (s *Service) endpoints() endpoints {
	return endpoints{VMRay: s.URL("vmray"), CarbonBlack: s.URL("carbonblack"), SentinelOne: s.URL("sentinelone"),
		Proofpoint: s.URL("proofpoint"), NSX: s.URL("nsx"), Webhook: s.URL("control") + "/webhook"}
}

// Close stops the listeners and the fakes.
func (s *Service) Close() {
	for _, f := range s.fronts {
		_ = f.Close()
	}
	if w := s.World(); w != nil {
		w.Close()
	}
}

// planEndpoints are the URLs a stable plan will serve, for -print-env.
// (plain HTTP: -print-env refuses -tls).
func planEndpoints(p listenPlan) endpoints {
	return endpoints{VMRay: p.url("vmray"), CarbonBlack: p.url("carbonblack"), SentinelOne: p.url("sentinelone"),
		Proofpoint: p.url("proofpoint"), NSX: p.url("nsx"), Webhook: p.url("control") + "/webhook"}
}

// errNotStable explains why -print-env cannot print without starting.
func errNotStable() error {
	return errors.New("-print-env needs fixed ports (-base-port, or -listen for every service); " +
		"use -env-file to write the environment of a running world instead")
}
