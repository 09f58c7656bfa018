package config_test

import (
	"fmt"
	"os"

	"github.com/soarkit/soarkit/examples/internal/config"
)

func ExampleLoad() {
	type Settings struct {
		URL    string        `yaml:"url"`
		APIKey config.Secret `yaml:"api_key"`
	}
	os.Setenv("DEMO_URL", "https://vmray.example")
	os.Setenv("DEMO_API_KEY", "k-123")
	defer os.Unsetenv("DEMO_URL")
	defer os.Unsetenv("DEMO_API_KEY")

	var s Settings
	if err := config.Load("", &s, "DEMO"); err != nil {
		panic(err)
	}
	fmt.Println(s.URL, s.APIKey)
	// Output: https://vmray.example [REDACTED]
}
