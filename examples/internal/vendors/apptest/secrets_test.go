package apptest

import (
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
)

type nested struct {
	Vendor struct {
		URL    string        `yaml:"url"`
		APIKey config.Secret `yaml:"api_key"`
	} `yaml:"vendor"`
	Webhook struct {
		Inline `yaml:",inline"`
	} `yaml:"webhook"`
}

type Inline struct {
	Secret  config.Secret `yaml:"secret"`
	Enabled bool          `yaml:"enabled"`
}

func TestSecretCasesFindEverySecret(t *testing.T) {
	var names []string
	for _, c := range SecretCases[nested]() {
		names = append(names, c.Name)
		if len(c.Hide) == 0 || !strings.Contains(c.YAML, c.Hide[0]) && !strings.Contains(c.YAML, c.Hide[1]) {
			t.Errorf("%s: plants nothing to hide:\n%s", c.Name, c.YAML)
		}
	}
	got := strings.Join(names, "\n")
	for _, w := range []string{"vendor.api_key with a misspelt neighbour", "vendor.api_key next to a wrongly typed url",
		"webhook.secret of the wrong type", "webhook.secret next to a wrongly typed enabled"} {
		if !strings.Contains(got, w) {
			t.Errorf("no case %q in:\n%s", w, got)
		}
	}
	c := SecretCases[nested]()[0]
	if want := "vendor:\n  api_key: Pl4nted-vendor-api_key-1-x9Q\n  ulr: Pl4nted-vendor-api_key-2-x9Q\n"; c.YAML != want {
		t.Errorf("YAML = %q, want %q", c.YAML, want)
	}
}

func TestSecretCasesPassForTheLoader(t *testing.T) {
	var built int
	CheckRefused(t, tinyApp(&built), SecretCases[tiny]())
	if built != 0 {
		t.Errorf("Build ran %d times for broken configurations", built)
	}
}
