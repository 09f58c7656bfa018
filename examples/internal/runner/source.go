package runner

import (
	"context"

	"github.com/soarkit/soarkit/connector"
)

// observeSource reports every Collect outcome to done, keeping the Fetcher
// side of the source visible to the engine.
func observeSource(s connector.Source, done func(error)) connector.Source {
	o := observed{Source: s, done: done}
	if f, ok := s.(connector.Fetcher); ok {
		return observedFetcher{observed: o, fetcher: f}
	}
	return o
}

type observed struct {
	connector.Source
	done func(error)
}

func (o observed) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	b, err := o.Source.Collect(ctx, cp)
	o.done(err)
	return b, err
}

type observedFetcher struct {
	observed
	fetcher connector.Fetcher
}

func (o observedFetcher) Fetch(ctx context.Context, ev connector.Evidence) (connector.Sample, error) {
	return o.fetcher.Fetch(ctx, ev)
}
