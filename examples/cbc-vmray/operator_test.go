package main

import (
	"path/filepath"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func TestCheckConfigAgainstTheFakes(t *testing.T) {
	w := startWorld(t, vmraytest.DefaultTiming)
	setup := func(t *testing.T) { apptest.SetEnv(t, worldEnv(w, filepath.Join(t.TempDir(), "state.db"))) }
	apptest.CheckConfigCases(t, app(), setup, []string{"carbonblack", "vmray"},
		apptest.WrongCredential{Vendor: "vmray", Key: "vmray.api_key"},
		apptest.WrongCredential{Vendor: "carbonblack", Key: "carbonblack.api_secret"})
	t.Run("print-config", func(t *testing.T) {
		setup(t)
		apptest.PrintConfigHidesSecrets(t, app())
	})
}

func TestDeployKitMatchesTheConnector(t *testing.T) { apptest.CheckDeployKit(t, app()) }
