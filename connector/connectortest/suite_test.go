package connectortest_test

import (
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
)

func TestFakeSourceConforms(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{New: func(*testing.T) connector.Source {
		s := connectortest.NewSource("cbc")
		s.BatchSize = 2
		for _, name := range []string{"a.exe", "b.dll", "c.ps1"} {
			h := s.AddFile([]byte("content of " + name))
			s.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, FileName: name,
				Sightings: []connector.Sighting{{DeviceID: "42", ProcessGUID: "guid-" + name}}})
		}
		return s
	}})
}

func TestFakeResponderConforms(t *testing.T) {
	for _, scope := range []connector.Scope{connector.ScopeEvidence, connector.ScopeSighting, connector.ScopeDevice} {
		t.Run(scope.String(), func(t *testing.T) {
			var r *connectortest.Responder
			connectortest.TestResponder(t, connectortest.ResponderHarness{
				New: func(*testing.T) connector.Responder {
					r = connectortest.NewResponder("note", scope)
					r.CheckExisting = true
					return r
				},
				Finding: func(testing.TB) connector.Finding { return connectortest.ExampleFinding(scope) },
				Effects: func(testing.TB) int {
					n := 0
					for _, v := range r.Effects() {
						n += v
					}
					return n
				},
			})
		})
	}
}
