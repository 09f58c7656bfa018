package runner

import (
	"cmp"
	"log/slog"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/console"
	"github.com/soarkit/soarkit/examples/internal/ops"
	"github.com/soarkit/soarkit/internal/rest"
)

// consoleMount returns the web console to mount on the ops server, or none when it would be exposed without
// credentials: on an address that is not loopback, the console needs run.ops_token (bearer) or
// run.console_password (basic auth as run.console_user, default "operator": what a browser asks for).
func consoleMount(name string, settings *Settings, store connector.Store, sources []connector.Source,
	activity *console.Activity, log *slog.Logger) ([]ops.Mount, error) {
	auth := console.Auth{Token: settings.OpsToken.Value()}
	if !settings.ConsolePassword.IsZero() {
		auth.User, auth.Password = cmp.Or(settings.ConsoleUser, "operator"), settings.ConsolePassword.Value()
	}
	if auth.Token == "" && auth.User == "" && !ops.IsLoopback(settings.OpsListen) {
		log.Warn("the web console (/console/) is off: run.ops_listen is not a loopback address and neither "+
			"run.console_password nor run.ops_token is set", "ops_listen", settings.OpsListen)
		return nil, nil
	}
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name()
	}
	c, err := console.New(console.Options{Name: name, Store: store, Sources: names, Activity: activity, Auth: auth,
		Logger: log})
	if err != nil {
		return nil, err
	}
	return []ops.Mount{{Prefix: console.Path, Handler: c}}, nil
}

// httpObservers hands every vendor HTTP attempt to each observer.
type httpObservers []rest.Observer

func (os httpObservers) ObserveRequest(e rest.RequestEvent) {
	for _, o := range os {
		o.ObserveRequest(e)
	}
}
