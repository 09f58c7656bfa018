package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/connector/nsxconn/nsxtest"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

// Demo settings shared by the demo and the tests.
const (
	demoPolicy        = "Isolation - Restrictive"
	demoFeed          = "Proofpoint TAP"
	demoNSXTag        = "quarantine"
	demoWebhookSecret = "demo-webhook-secret"
)

// attachment is a demo e-mail attachment.
type attachment struct {
	name    string
	content []byte
	sha256  string
	md5     string
}

func newAttachment(name, content string) attachment {
	s, m := sha256.Sum256([]byte(content)), md5.Sum([]byte(content))
	return attachment{name: name, content: []byte(content), sha256: hex.EncodeToString(s[:]), md5: hex.EncodeToString(m[:])}
}

// The demo's attachments: three TAP condemned as malware, and three it did
// not (a clean PDF sent next to a malicious file, a phishing page, a file
// TAP is still sandboxing).
var (
	invoiceExe = newAttachment("invoice.exe", "MZ\x90\x00 demo: invoice dropper")
	reportXlsm = newAttachment("report.xlsm", "PK\x03\x04 demo: macro downloader")
	orderDocm  = newAttachment("order.docm", "PK\x03\x04 demo: blocked macro document")
	termsPDF   = newAttachment("terms.pdf", "%PDF-1.7 demo: harmless terms and conditions")
	loginHTML  = newAttachment("login.html", "<html> demo: credential phishing page")
	pendingZip = newAttachment("archive.zip", "PK\x03\x04 demo: not yet sandboxed")
)

// process is a demo Carbon Black process that ran an attachment.
type process struct {
	host string
	file attachment
	path string
	pid  int64
}

// demoProcesses: invoice.exe ran on two hosts (twice on one), report.xlsm on
// the file server; the clean PDF was opened too but must never be acted on.
var demoProcesses = []process{
	{"WS-FIN-01", invoiceExe, `c:\users\alice\downloads\invoice.exe`, 4242},
	{"WS-FIN-01", invoiceExe, `c:\users\alice\downloads\invoice.exe`, 4388},
	{"WS-HR-02", invoiceExe, `c:\users\bob\appdata\local\temp\invoice.exe`, 5120},
	{"SRV-FILE-03", reportXlsm, `c:\shares\finance\report.xlsm`, 6100},
	{"WS-OPS-04", termsPDF, `c:\users\dave\downloads\terms.pdf`, 7300},
}

// world is the demo's TAP tenant, Carbon Black organisation, NSX manager,
// webhook receiver and command log.
type world struct {
	tap     *proofpointtest.Server
	cbc     *carbonblacktest.Server
	nsx     *nsxtest.Server
	hook    *webhookReceiver
	cmdLog  string
	devices map[string]carbonblack.Device
	policy  carbonblack.Policy
}

// newWorld starts the fakes and seeds them.
func newWorld(dir string, cbcOpts ...carbonblacktest.Option) (*world, error) {
	w := &world{devices: map[string]carbonblack.Device{}, cmdLog: filepath.Join(dir, "commands.log")}
	var err error
	if w.tap, err = proofpointtest.New(); err != nil {
		return nil, err
	}
	opts := append([]carbonblacktest.Option{carbonblacktest.WithJobPolls(1), carbonblacktest.WithSessionPolls(1),
		carbonblacktest.WithCommandPolls(1)}, cbcOpts...)
	if w.cbc, err = carbonblacktest.New(opts...); err != nil {
		w.close()
		return nil, err
	}
	if w.nsx, err = nsxtest.New(); err != nil {
		w.close()
		return nil, err
	}
	if w.hook, err = newWebhookReceiver([]byte(demoWebhookSecret)); err != nil {
		w.close()
		return nil, err
	}
	if err := w.seed(time.Now().UTC()); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	if w.tap != nil {
		w.tap.Close()
	}
	if w.cbc != nil {
		w.cbc.Close()
	}
	if w.nsx != nil {
		w.nsx.Close()
	}
	if w.hook != nil {
		w.hook.close()
	}
}

func (w *world) seed(now time.Time) error {
	for _, name := range []string{"WS-FIN-01", "WS-HR-02", "SRV-FILE-03", "WS-OPS-04"} {
		w.devices[name] = w.cbc.AddDevice(carbonblack.Device{Name: name, OS: "WINDOWS", PolicyName: "Standard"})
	}
	w.policy = w.cbc.AddPolicy(carbonblack.Policy{Name: demoPolicy, Description: "Blocks everything but the EDR"})
	for i, name := range []string{"WS-FIN-01", "WS-HR-02", "SRV-FILE-03"} {
		w.nsx.AddVM(nsxconn.VirtualMachine{ExternalID: fmt.Sprintf("5012c3a5-%04d-4f2e-8a1d-demo%08d", i, i), DisplayName: name, PowerState: "VM_RUNNING"})
	}
	for _, p := range demoProcesses {
		d := w.devices[p.host]
		t := carbonblack.Timestamp{Time: now.Add(-30 * time.Minute)}
		w.cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f210", w.cbc.OrgKey(), d.ID, p.pid),
			ProcessHash: []string{p.file.md5, p.file.sha256}, ProcessSHA256: p.file.sha256, ProcessName: p.path,
			ProcessPID: carbonblack.IntList{p.pid}, ProcessEffectiveReputation: "NOT_LISTED",
			ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
		if err := w.cbc.AddDeviceProcess(d.ID, carbonblack.LRProcess{ProcessPID: p.pid, ProcessPath: p.path}); err != nil {
			return err
		}
		if err := w.cbc.AddDeviceFile(d.ID, p.path, p.file.content); err != nil {
			return err
		}
	}

	threat := func(a attachment, classification string) proofpoint.ThreatInfo {
		return proofpoint.ThreatInfo{ThreatID: a.sha256, Threat: a.sha256, ThreatType: "attachment", Classification: classification,
			ThreatStatus: "active", ThreatTime: proofpoint.Time{Time: now.Add(-50 * time.Minute)},
			ThreatURL: "https://threatinsight.proofpoint.com/demo/threat/email/" + a.sha256}
	}
	part := func(a attachment, status string) proofpoint.MessagePart {
		return proofpoint.MessagePart{Disposition: "attached", Filename: a.name, SHA256: a.sha256, MD5: a.md5, SandboxStatus: status}
	}
	body := proofpoint.MessagePart{Disposition: "inline", Filename: "text.html", ContentType: "text/html",
		SHA256: strings.Repeat("b0", 32), MD5: strings.Repeat("b0", 16)}
	msg := func(guid, subject string, ago time.Duration, score float64, rcpt []string, parts []proofpoint.MessagePart, threats ...proofpoint.ThreatInfo) proofpoint.Message {
		return proofpoint.Message{GUID: guid, ID: "evt-" + guid, QID: "r2FNwRHF00" + guid[len(guid)-4:], MessageID: "<" + guid + "@mail.evil.example>",
			MessageTime: proofpoint.Time{Time: now.Add(-ago)}, Sender: "e99d7ed5580193f36a51f597bc2c0210@evil.example",
			SenderIP: "192.0.2.25", FromAddress: proofpoint.Addresses{"billing@evil.example"}, HeaderFrom: `"Billing" <billing@evil.example>`,
			Recipient: rcpt, ToAddresses: rcpt, Subject: subject, MalwareScore: score, MessageParts: parts, ThreatsInfoMap: threats}
	}
	w.tap.AddDeliveredMessage(msg("demo-guid-0001", "Your invoice", 60*time.Minute, 92, []string{"alice@example.com", "bob@example.com"},
		[]proofpoint.MessagePart{body, part(invoiceExe, "threat"), part(termsPDF, "clean")}, threat(invoiceExe, "malware")), time.Time{})
	w.tap.AddDeliveredMessage(msg("demo-guid-0002", "Invoice reminder", 45*time.Minute, 88, []string{"carol@example.com"},
		[]proofpoint.MessagePart{body, part(invoiceExe, "threat")}, threat(invoiceExe, "malware")), time.Time{})
	w.tap.AddDeliveredMessage(msg("demo-guid-0003", "Quarterly report", 40*time.Minute, 65, []string{"erin@example.com"},
		[]proofpoint.MessagePart{body, part(reportXlsm, "threat")}, threat(reportXlsm, "malware")), time.Time{})
	w.tap.AddBlockedMessage(msg("demo-guid-0004", "Purchase order", 35*time.Minute, 4, []string{"frank@example.com"},
		[]proofpoint.MessagePart{body, part(orderDocm, "threat")}, threat(orderDocm, "malware")), time.Time{})
	w.tap.AddDeliveredMessage(msg("demo-guid-0005", "Password expiry", 30*time.Minute, 0, []string{"grace@example.com"},
		[]proofpoint.MessagePart{body, part(loginHTML, "threat")}, threat(loginHTML, "phish")), time.Time{})
	w.tap.AddDeliveredMessage(msg("demo-guid-0006", "Archive", 25*time.Minute, 0, []string{"heidi@example.com"},
		[]proofpoint.MessagePart{body, part(pendingZip, "inprogress")}), time.Time{})
	return nil
}

// configure points c at the world with every action on.
func (w *world) configure(c *Config) {
	c.Proofpoint.URL, c.Proofpoint.Principal = w.tap.URL(), w.tap.Principal()
	c.Proofpoint.Secret = config.NewSecret(w.tap.Secret())
	c.Proofpoint.IncludeBlocked = true
	c.CarbonBlack.URL, c.CarbonBlack.OrgKey = w.cbc.URL(), w.cbc.OrgKey()
	c.CarbonBlack.APIID, c.CarbonBlack.APISecret = w.cbc.APIID(), config.NewSecret(w.cbc.APISecret())
	c.FeedReport.Enabled, c.FeedReport.Feed = true, demoFeed
	c.Ban.Enabled, c.Isolate.Enabled, c.LiveResp.Enabled = true, true, true
	c.Policy.Enabled, c.Policy.Policy = true, demoPolicy
	c.Webhook.Enabled, c.Webhook.URL = true, w.hook.url
	c.Webhook.Secret = config.NewSecret(demoWebhookSecret)
	if _, err := exec.LookPath("sh"); err == nil {
		c.Command.Enabled = true
		c.Command.Argv = []string{"sh", "-c", `printf '%s %s %s\n' "$0" "$1" "$2" >> "` + w.cmdLog + `"`, "{device_id}", "{pid}", "{file_path}"}
	}
	c.NSX.Enabled, c.NSX.URL, c.NSX.Username = true, w.nsx.URL(), w.nsx.Username()
	c.NSX.Password, c.NSX.Tag = config.NewSecret(w.nsx.Password()), demoNSXTag
	c.CarbonBlack.PollInterval = 20 * time.Millisecond
	// The fakes apply requests at once: a device action in flight at a crash
	// needs only a short wait before it is asked for again.
	c.CarbonBlack.SettleDelay = time.Second
	c.Run.Pipeline.PollInterval = 50 * time.Millisecond
}

// env returns the environment that points a child process at the world.
func (w *world) env(statePath string) map[string]string {
	c := defaults()
	w.configure(c)
	e := map[string]string{
		"RUN_STATE_PATH": statePath, "RUN_OPS_LISTEN": "",
		"PROOFPOINT_URL": c.Proofpoint.URL, "PROOFPOINT_PRINCIPAL": c.Proofpoint.Principal, "PROOFPOINT_SECRET": w.tap.Secret(),
		"PROOFPOINT_INCLUDE_BLOCKED": "true",
		"CARBONBLACK_URL":            c.CarbonBlack.URL, "CARBONBLACK_ORG_KEY": c.CarbonBlack.OrgKey,
		"CARBONBLACK_POLL_INTERVAL": c.CarbonBlack.PollInterval.String(), "CARBONBLACK_SETTLE_DELAY": c.CarbonBlack.SettleDelay.String(),
		"CARBONBLACK_API_ID": c.CarbonBlack.APIID, "CARBONBLACK_API_SECRET": w.cbc.APISecret(),
		"FEED_REPORT_ENABLED": "true", "FEED_REPORT_FEED": demoFeed, "BAN_ENABLED": "true", "ISOLATE_ENABLED": "true",
		"LIVE_RESPONSE_ENABLED": "true", "POLICY_ENABLED": "true", "POLICY_POLICY": demoPolicy,
		"WEBHOOK_ENABLED": "true", "WEBHOOK_URL": w.hook.url, "WEBHOOK_SECRET": demoWebhookSecret,
		"NSX_ENABLED": "true", "NSX_URL": c.NSX.URL, "NSX_USERNAME": c.NSX.Username, "NSX_PASSWORD": w.nsx.Password(),
		"NSX_TAG": demoNSXTag,
	}
	if c.Command.Enabled {
		e["COMMAND_ENABLED"] = "true"
		e["COMMAND_ARGV"] = strings.Join(c.Command.Argv, ",")
	}
	out := map[string]string{}
	for k, v := range e {
		out[envPrefix+"_"+k] = v
	}
	return out
}

// demo starts the world and points the configuration at it.
func demo(ctx context.Context, c *Config, env runner.Env) (func(io.Writer), func(), error) {
	dir, err := os.MkdirTemp("", "tap-cbc-demo-")
	if err != nil {
		return nil, nil, err
	}
	w, err := newWorld(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	w.configure(c)
	return w.report, func() { w.close(); os.RemoveAll(dir) }, nil
}

// report prints what the fakes saw.
func (w *world) report(out io.Writer) {
	ctx := context.Background()
	fmt.Fprintln(out, "\nWhat the fakes saw")
	fmt.Fprintf(out, "  TAP SIEM requests: %d (delivered and blocked messages)\n", w.tap.CountRequests("GET", "/v2/siem/"))
	fmt.Fprintf(out, "  Carbon Black process hunts: %d\n", w.cbc.CountRequests("POST", "/api/investigate/v2/orgs/"+w.cbc.OrgKey()+"/processes/search_jobs"))
	if info, err := w.cbc.Client().Feeds.FindByName(ctx, demoFeed, false); err == nil && info != nil {
		if reports, err := w.cbc.Client().Feeds.Reports(ctx, info.ID); err == nil {
			fmt.Fprintf(out, "  feed %q: %d reports\n", demoFeed, len(reports))
			for _, r := range reports {
				fmt.Fprintf(out, "    %s (severity %d)\n", r.Title, r.Severity)
			}
		}
	}
	for _, o := range w.cbc.Overrides() {
		fmt.Fprintf(out, "  banned %s… (%s)\n", o.SHA256Hash[:12], o.Filename)
	}
	var isolated, moved []string
	for name, d := range w.devices {
		now, _ := w.cbc.Device(d.ID)
		if now.Quarantined {
			isolated = append(isolated, name)
		}
		if now.PolicyID == w.policy.ID {
			moved = append(moved, name)
		}
	}
	slices.Sort(isolated)
	slices.Sort(moved)
	fmt.Fprintf(out, "  isolated devices: %s\n", strings.Join(isolated, ", "))
	fmt.Fprintf(out, "  moved to %q: %s\n", demoPolicy, strings.Join(moved, ", "))
	for _, c := range w.cbc.Commands() {
		if c.Name == "kill" || c.Name == "delete file" {
			fmt.Fprintf(out, "  live response on device %d: %s %s\n", c.DeviceID, c.Name, strings.TrimSpace(fmt.Sprint(nonZero(c.PID), " ", c.Path)))
		}
	}
	for _, d := range w.hook.deliveries() {
		fmt.Fprintf(out, "  webhook: %s ran %s… (e-mailed to %s)\n", d.process, d.sha256[:12], strings.Join(d.emails, ", "))
	}
	if b, err := os.ReadFile(w.cmdLog); err == nil {
		for line := range strings.Lines(string(b)) {
			fmt.Fprintf(out, "  command: %s", line)
		}
	}
	var tagged []string
	for _, vm := range w.nsxVMs() {
		if vm.HasTag(nsxconn.Tag{Tag: demoNSXTag}) {
			tagged = append(tagged, vm.DisplayName)
		}
	}
	fmt.Fprintf(out, "  NSX VMs tagged %q: %s\n", demoNSXTag, strings.Join(tagged, ", "))
}

func nonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func (w *world) nsxVMs() []nsxconn.VirtualMachine {
	var out []nsxconn.VirtualMachine
	for i := range 3 {
		if vm, ok := w.nsx.VM(fmt.Sprintf("5012c3a5-%04d-4f2e-8a1d-demo%08d", i, i)); ok {
			out = append(out, vm)
		}
	}
	return out
}

// delivery is what the demo's webhook receiver kept of one delivery.
type delivery struct {
	id      string
	sha256  string
	process string
	device  string
	emails  []string
}

// webhookReceiver is the demo's webhook endpoint: it checks each delivery's
// signature and keeps the e-mail recipients, the SHA-256 and the process.
type webhookReceiver struct {
	secret []byte
	url    string
	srv    *http.Server
	mu     sync.Mutex
	got    []delivery
	bad    int
}

func newWebhookReceiver(secret []byte) (*webhookReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &webhookReceiver{secret: secret, url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *webhookReceiver) close() { r.srv.Close() }

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var p connector.WebhookPayload
	if connector.VerifyWebhook(r.secret, req.Header, body, "", 5*time.Minute, time.Now()) != nil || json.Unmarshal(body, &p) != nil || p.Sighting == nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "bad delivery", http.StatusUnauthorized)
		return
	}
	d := delivery{id: p.ID, sha256: p.Evidence.Hashes.SHA256, process: fmt.Sprintf("%s pid %d", p.Sighting.DeviceName, p.Sighting.PID),
		device: p.Sighting.DeviceID}
	for _, s := range p.Evidence.Sightings {
		if s.Recipient != "" && !slices.Contains(d.emails, s.Recipient) {
			d.emails = append(d.emails, s.Recipient)
		}
	}
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// deliveries returns the deliveries received, one per delivery id (the
// engine may repeat one after a crash; receivers deduplicate by id).
func (r *webhookReceiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	seen := map[string]bool{}
	for _, d := range r.got {
		if !seen[d.id] {
			seen[d.id] = true
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b delivery) int { return strings.Compare(a.process, b.process) })
	return out
}
