package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/pgstore"
)

// pinger is a store that can tell whether its database answers (pgstore); readiness includes it.
type pinger interface {
	Ping(ctx context.Context) error
}

// openShared opens the PostgreSQL store that the replicas of the connector share (run.state.url). A dry run is
// refused: it works on a private copy of the state, and a shared database has none.
func openShared(ctx context.Context, settings *Settings, log *slog.Logger) (connector.Store, func(), error) {
	if settings.DryRun {
		return nil, nil, errors.New("dry run: not available with run.state.url (it works on a copy of a state file); " +
			"run it with run.state_path on a copy of the data instead")
	}
	store, err := openPostgres(ctx, settings, log)
	if err != nil {
		return nil, nil, err
	}
	log.Info("state in PostgreSQL, shared with the other replicas", "schema", store.Schema())
	return store, func() { store.Close() }, nil
}

// openPostgres opens pgstore with the settings' URL, password and schema. Errors never contain the password.
func openPostgres(ctx context.Context, settings *Settings, log *slog.Logger) (*pgstore.Store, error) {
	store, err := pgstore.Open(ctx, settings.State.URL, pgstore.Options{Schema: settings.State.Schema,
		Password: settings.State.Password.Value(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("opening the state database: %w", err)
	}
	return store, nil
}
