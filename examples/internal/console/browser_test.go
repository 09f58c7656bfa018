package console

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/ops"
)

// chromium returns the headless browser to drive: $CHROMIUM, else Debian's chromium on the PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium is not installed (apt-get install chromium, or set CHROMIUM to a Chrome binary): skipping the browser test")
	}
	return p
}

// browserProblems collects what the page reports as wrong: console errors and warnings, uncaught exceptions and
// browser log errors (a Content-Security-Policy violation, a failed subresource).
type browserProblems struct {
	mu   sync.Mutex
	list []string
}

func (b *browserProblems) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, fmt.Sprintf(format, args...))
}

func (b *browserProblems) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.list
	b.list = nil
	return l
}

func (b *browserProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning ||
			ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.add("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		b.add("exception: %s", (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
			b.add("log %s %s: %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	}
}

// screenshotPages are the pages docs/console.md shows.
var screenshotPages = map[string]bool{"overview": true, "items": true, "item": true, "item-waiting": true,
	"failed": true, "retried": true}

// TestBrowser drives the console in headless Chromium: every page loads with its stylesheet and script and without a
// console error, the search and the script's auto-submitting filter work, and the retry buttons (one item, then all
// with the script's confirmation) requeue dead letters. With CONSOLE_SCREENSHOTS set to a directory, it saves a
// screenshot of each page there (docs/images holds the ones docs/console.md shows).
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	w := seedWorld(t)
	c := newTestConsole(t, w, Auth{})
	srv := httptest.NewServer(ops.Handler(prometheus.NewRegistry(), ops.NewHealth(0), nil, ops.Mount{Prefix: Path, Handler: c}))
	defer srv.Close()

	// One bound for the whole browser session, so a wedged browser fails the test instead of hanging it.
	bctx, stop := context.WithTimeout(t.Context(), 2*time.Minute)
	defer stop()
	actx, cancelAlloc := chromedp.NewExecAllocator(bctx, chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	var problems browserProblems
	if err := chromedp.Listen(ctx, problems.listen); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	var confirmed sync.WaitGroup
	confirmed.Add(1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			if ev.Type == cdppage.DialogTypeConfirm {
				chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
				confirmed.Done()
			}
		}
	}()

	shots := os.Getenv("CONSOLE_SCREENSHOTS")
	// load navigates (or runs trigger, which navigates), waits for the page and checks that it came without a
	// problem, its stylesheet applied and its script loaded.
	load := func(name string, trigger chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, trigger)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		styled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("header")).display === "flex"`))
		if err != nil || !styled {
			t.Errorf("%s: the stylesheet did not apply (%v)", name, err)
		}
		for _, p := range problems.take() {
			t.Errorf("%s: %s", name, p)
		}
		if shots != "" && screenshotPages[name] {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s: screenshot: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	rows := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.items tbody tr").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	load("overview", chromedp.Navigate(srv.URL+"/"))
	if got := strings.Join(strings.Fields(text(".card.dead")), " "); got != "2 dead letters" {
		t.Errorf("overview dead letters card: %q", got)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect.s-evidence").length`))
	if err != nil || bars == 0 {
		t.Errorf("no evidence bars drawn (%d, %v)", bars, err)
	}

	load("items", chromedp.Navigate(srv.URL+Path+"items"))
	if n := rows(); n != 7 {
		t.Errorf("%d items listed, want 7", n)
	}
	// the search form, without the script
	load("items-search", chromedp.Steps(chromedp.SetValue(chromedp.CSS(`input[name="q"]`), w.ransomware.Hex[:10]),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`))))
	if n := rows(); n != 1 {
		t.Errorf("searching a hash prefix listed %d items, want 1", n)
	}
	// the script submits a filter as soon as it changes
	load("items-all", chromedp.Navigate(srv.URL+Path+"items"))
	load("items-failed", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('select[name="state"]'); s.value = "failed"; return s.dispatchEvent(new Event("change")); })()`))
		return err
	}))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/items?q=&state=failed&verdict=&device=") {
		t.Errorf("the filter went to %s", loc)
	}
	if n := rows(); n != 2 {
		t.Errorf("the state filter listed %d items, want 2", n)
	}

	load("item", chromedp.Navigate(srv.URL+Path+"items/"+w.ransomware.String()))
	if got := text("h1"); got != "invoice_0423.exe" {
		t.Errorf("item page title %q", got)
	}
	load("item-waiting", chromedp.Navigate(srv.URL+Path+"items/"+w.awaiting.String()))

	load("failed", chromedp.Navigate(srv.URL+Path+"failed"))
	if n := rows(); n != 2 {
		t.Errorf("%d dead letters listed, want 2", n)
	}
	load("retried", chromedp.Click(chromedp.CSS(`form[action$="/items/`+w.offline.String()+`/retry"] button`)))
	if got := text(".notice"); got != "Requeued 1 item: the next cycle works on it again." {
		t.Errorf("after retry: notice %q", got)
	}
	if got := itemState(t, w.store, w.offline); got != connector.StateResponding {
		t.Errorf("after retry: the item is %s", got)
	}

	load("failed-one", chromedp.Navigate(srv.URL+Path+"failed"))
	load("retried-all", chromedp.Click(chromedp.CSS(`form[action$="/failed/retry"] button`)))
	confirmed.Wait()
	if got := text(".notice"); !strings.HasPrefix(got, "Requeued 1 item") {
		t.Errorf("after retry all: notice %q", got)
	}
	if got := itemState(t, w.store, w.unfetchable); got != connector.StateNew {
		t.Errorf("after retry all: the item is %s", got)
	}
	if got := text("p.empty"); got != "No dead letters." {
		t.Errorf("after retry all: %q", got)
	}
}
