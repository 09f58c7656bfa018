package vendors

import (
	"log/slog"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/vmray"
)

// VMRaySection is the configuration section VMRay is read from.
const VMRaySection = "vmray"

// VMRay is the VMRay connection and the submission settings every example's
// VMRay analyzer uses.
type VMRay struct {
	URL       string        `yaml:"url"`
	APIKey    config.Secret `yaml:"api_key"`
	Transport `yaml:",inline"`
	// ConnectorName is sent as the User-Agent.
	ConnectorName     string        `yaml:"connector_name"`
	SubmissionComment string        `yaml:"submission_comment"`
	SubmissionTags    []string      `yaml:"submission_tags"`
	SandboxTimeout    time.Duration `yaml:"sandbox_timeout"`
	UnlockReports     bool          `yaml:"unlock_reports"`
	// SettleDelay is how long, after a crash while submitting, the analyzer
	// waits for a submission of ours that may still reach VMRay before it
	// submits the file again (0: the run's run.pipeline.submit_timeout, which
	// defaults to vmrayconn.DefaultSettleDelay). Lower it only where every
	// submission reaches VMRay sooner, such as against a local fake.
	SettleDelay time.Duration `yaml:"settle_delay"`
}

// Validate adds a problem for a missing URL or API key and for a submission
// tag VMRay would not take. envPrefix names the key's environment variable
// in the message.
func (vm *VMRay) Validate(p *config.Problems, envPrefix string) {
	p.Require(VMRaySection+".url", vm.URL)
	if vm.APIKey.IsZero() {
		env := config.EnvName(envPrefix, VMRaySection+".api_key")
		p.Add(VMRaySection+".api_key", "is required (set %s or %s_FILE)", env, env)
	}
	for _, tag := range vm.SubmissionTags {
		if tag == "" || strings.ContainsAny(tag, " \t,") {
			p.Add(VMRaySection+".submission_tags", "tag %q must be non-empty without spaces or commas", tag)
		}
	}
	if vm.SettleDelay < 0 {
		p.Add(VMRaySection+".settle_delay", "must not be negative, got %v", vm.SettleDelay)
	}
}

// Client returns a VMRay client for the connection that logs to logger,
// with extra options (for example vmray.WithObserver) after it.
func (vm *VMRay) Client(logger *slog.Logger, extra ...vmray.Option) (*vmray.Client, error) {
	transport, err := TransportOptions(VMRaySection, vm.Transport, vmray.WithInsecureSkipVerify, vmray.WithCACertPEM, vmray.WithProxy)
	if err != nil {
		return nil, err
	}
	opts := append([]vmray.Option{vmray.WithLogger(logger), vmray.WithUserAgent(vm.ConnectorName)}, transport...)
	opts = append(opts, extra...)
	return vmray.New(vm.URL, vm.APIKey.Value(), opts...)
}

// AnalyzerOptions returns the analyzer's options for the submission
// settings. When resubmit is true (the pipeline resubmits files), VMRay's
// analysis cache is turned off: a resubmitted file must be analysed again,
// not answered from the cache.
func (vm *VMRay) AnalyzerOptions(logger *slog.Logger, resubmit bool) vmrayconn.Options {
	opts := vmrayconn.Options{Comment: vm.SubmissionComment, Tags: vm.SubmissionTags, SandboxTimeout: vm.SandboxTimeout,
		UnlockReports: vm.UnlockReports, SettleDelay: vm.SettleDelay, Logger: logger}
	if resubmit {
		opts.AnalysisCaching = vmray.CachingDisabled
	}
	return opts
}
