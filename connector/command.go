package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CommandOptions configure NewCommand.
type CommandOptions struct {
	// Name is the responder's name (default: the program's base name).
	Name string
	// Scope is what one run is about. The zero value is ScopeSighting: one run per sighting, as the Proofpoint
	// connector ran its Live Response script per process.
	Scope Scope
	// Timeout bounds one run; the process is killed when it runs out (default 2 min).
	Timeout time.Duration
	// Dir is the working directory (default: the current one).
	Dir string
	// Env is the environment of the process (nil: inherit this process's environment).
	Env []string
	// MaxOutput caps the captured standard output and error (default 64 KiB); the rest is dropped.
	MaxOutput int
}

// Command is a Responder that runs a program with arguments filled from the finding. It never uses a shell: each
// argument is one argv element, so values from vendors cannot inject commands.
//
// Placeholders, written {name} anywhere in an argument, are replaced by the finding's values: {key}, {sha256},
// {sha1}, {md5}, {file_name}, {verdict}, {score}, {device_id}, {device_name}, {agent_id}, {os}, {site_id},
// {site_name}, {account_id}, {threat_id}, {process_guid}, {pid}, {file_path}, {message_id}, {recipient}, {sender}.
// When a placeholder has no value for a finding (no pid, no sighting) the run is Skipped.
type Command struct {
	path string
	args []string
	opts CommandOptions
}

// commandValue returns the value of placeholder name in a finding, and whether name is a placeholder at all.
func commandValue(name string, f Finding, s Sighting) (string, bool) {
	switch name {
	case "key":
		return f.Key.String(), true
	case "sha256":
		return f.Evidence.Hashes.SHA256, true
	case "sha1":
		return f.Evidence.Hashes.SHA1, true
	case "md5":
		return f.Evidence.Hashes.MD5, true
	case "file_name":
		return f.Evidence.FileName, true
	case "verdict":
		return f.Verdict.Kind.String(), true
	case "score":
		return strconv.FormatFloat(f.Verdict.Score, 'f', -1, 64), true
	case "device_id":
		return s.DeviceID, true
	case "device_name":
		return s.DeviceName, true
	case "agent_id":
		return s.AgentID, true
	case "os":
		return s.OS, true
	case "site_id":
		return s.SiteID, true
	case "site_name":
		return s.SiteName, true
	case "account_id":
		return s.AccountID, true
	case "threat_id":
		return s.ThreatID, true
	case "process_guid":
		return s.ProcessGUID, true
	case "pid":
		if s.PID == 0 {
			return "", true
		}
		return strconv.FormatInt(s.PID, 10), true
	case "file_path":
		return s.FilePath, true
	case "message_id":
		return s.MessageID, true
	case "recipient":
		return s.Recipient, true
	case "sender":
		return s.Sender, true
	}
	return "", false
}

// expand replaces every {name} in tmpl (name made of a-z, 0-9 and _) with value(name). It returns the first name
// value does not know, and the first name whose value is empty.
func expand(tmpl string, value func(name string) (string, bool)) (out, unknown, empty string) {
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			return b.String(), unknown, empty
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 || !isPlaceholderName(tmpl[open+1:open+end]) {
			b.WriteString(tmpl[:open+1])
			tmpl = tmpl[open+1:]
			continue
		}
		name := tmpl[open+1 : open+end]
		v, known := value(name)
		switch {
		case !known && unknown == "":
			unknown = name
		case known && v == "" && empty == "":
			empty = name
		}
		b.WriteString(tmpl[:open])
		b.WriteString(v)
		tmpl = tmpl[open+end+1:]
	}
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// NewCommand returns a command responder for argv: argv[0] is the program (looked up in PATH now, so a missing
// program fails at start-up, not on the first malicious file), the rest are argument templates.
func NewCommand(argv []string, opts CommandOptions) (*Command, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("connector: command needs a program")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("connector: command %q: %w", argv[0], err)
	}
	for _, a := range argv[1:] {
		if _, unknown, _ := expand(a, func(name string) (string, bool) { return commandValue(name, Finding{}, Sighting{}) }); unknown != "" {
			return nil, fmt.Errorf("connector: command argument %q: unknown placeholder {%s}", a, unknown)
		}
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(argv[0])
	}
	setDefault(&opts.Timeout, 2*time.Minute)
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = 64 << 10
	}
	return &Command{path: path, args: append([]string(nil), argv[1:]...), opts: opts}, nil
}

// Name returns the responder's name.
func (c *Command) Name() string { return c.opts.Name }

// Scope returns the responder's scope.
func (c *Command) Scope() Scope { return c.opts.Scope }

// Args returns the arguments a finding would run with, or the name of the first placeholder without a value.
func (c *Command) Args(f Finding) (args []string, missing string) {
	var s Sighting
	if f.Sighting != nil {
		s = *f.Sighting
	}
	args = make([]string, len(c.args))
	for i, a := range c.args {
		var empty string
		args[i], _, empty = expand(a, func(name string) (string, bool) { return commandValue(name, f, s) })
		if missing == "" {
			missing = empty
		}
	}
	return args, missing
}

// Respond runs the command for the finding. Exit status 0 is Acted; another status or the timeout is an error (the
// engine retries it) carrying the captured output.
func (c *Command) Respond(ctx context.Context, f Finding) (Result, error) {
	args, missing := c.Args(f)
	if missing != "" {
		return Result{Status: Skipped, Detail: fmt.Sprintf("no value for {%s}", missing)}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir, cmd.Env = c.opts.Dir, c.opts.Env
	cmd.WaitDelay = 5 * time.Second
	out := &cappedBuffer{max: c.opts.MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	output := strings.TrimSpace(out.String())
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return Result{}, fmt.Errorf("command %s: timed out after %s; output: %q", c.opts.Name, c.opts.Timeout, excerpt(output))
	case err != nil:
		return Result{}, fmt.Errorf("command %s: %w; output: %q", c.opts.Name, err, excerpt(output))
	}
	return Result{Status: Acted, Detail: fmt.Sprintf("ran %s (exit 0, %s); output: %q", c.opts.Name,
		time.Since(start).Round(time.Millisecond), excerpt(output))}, nil
}

func excerpt(s string) string {
	const n = 512
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cappedBuffer keeps the first max bytes written to it and drops the rest.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
