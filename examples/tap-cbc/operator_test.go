package main

import (
	"path/filepath"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
)

func TestCheckConfigAgainstTheFakes(t *testing.T) {
	w := startWorld(t)
	setup := func(nsx string) func(t *testing.T) {
		return func(t *testing.T) {
			setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
			apptest.SetEnv(t, apptest.EnvVars(envPrefix, map[string]string{"nsx.enabled": nsx}))
		}
	}
	t.Run("without NSX", func(t *testing.T) {
		apptest.CheckConfigCases(t, app(), setup("false"), []string{"proofpoint", "carbonblack"},
			apptest.WrongCredential{Vendor: "proofpoint", Key: "proofpoint.secret"},
			apptest.WrongCredential{Vendor: "carbonblack", Key: "carbonblack.api_secret"})
	})
	t.Run("with NSX", func(t *testing.T) {
		apptest.CheckConfigCases(t, app(), setup("true"), []string{"proofpoint", "carbonblack", "nsx"},
			apptest.WrongCredential{Vendor: "nsx", Key: "nsx.password"})
	})
	t.Run("print-config", func(t *testing.T) {
		setup("true")(t)
		apptest.PrintConfigHidesSecrets(t, app())
	})
}

func TestDeployKitMatchesTheConnector(t *testing.T) { apptest.CheckDeployKit(t, app()) }
