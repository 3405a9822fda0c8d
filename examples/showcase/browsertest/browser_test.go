package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// The viewport of every page and screenshot.
const (
	viewportWidth  = 1280
	viewportHeight = 800
)

// stepTimeout bounds one step (a navigation, a click and what it should
// show). The machine may be slow and shared, so it is generous; a step that
// fails for a real reason fails at once.
const stepTimeout = 20 * time.Second

// findChromium returns the browser binary: $CHROMIUM, else the first of the
// usual names on PATH. It skips the test when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("CHROMIUM=%s: %v", p, err)
		}
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("service unavailable: chromium not found (apt-get install chromium, or set CHROMIUM)")
	return ""
}

// screenshotDir returns the directory for screenshots: $SCREENSHOT_DIR, or a
// new temporary directory, which is removed after a passing test and kept
// after a failing one.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		dir, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots go to %s", dir)
		return dir
	}
	dir, err := os.MkdirTemp("", "showcase-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots go to %s (kept only if the test fails; set SCREENSHOT_DIR to keep them)", dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// tab is one browser tab on the showcase, with the test helpers of its
// steps. Every helper fails the test with a screenshot of the page.
type tab struct {
	t       *testing.T
	ctx     context.Context // the chromedp context of the tab
	base    string          // the showcase's URL without a trailing slash
	shots   string          // where screenshots go
	app     *showcase
	browser *syncBuffer // Chromium's own output, for failure messages
	failure int         // failure screenshots taken
}

// openTab starts a headless Chromium with a fresh profile, sets the viewport
// and lets downloads go to downloadDir. The browser and its helper processes
// are gone when the test ends.
func openTab(t *testing.T, ctx context.Context, chromium string, app *showcase, shots, downloadDir string) *tab {
	t.Helper()
	output := new(syncBuffer)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		// The defaults have headless, no-first-run,
		// disable-background-networking and disable-sync. Root (in CI
		// containers) needs no-sandbox; the rest keeps Chromium from
		// trying to reach the network.
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(viewportWidth, viewportHeight),
		chromedp.CombinedOutput(output),
	)
	// No UserDataDir: the allocator makes a fresh profile directory, kills
	// Chromium's helpers that outlive it, and removes the directory.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	tb := &tab{t: t, ctx: tabCtx, base: app.URL, shots: shots, app: app, browser: output}

	// The first action starts the browser, with the tab's own context: the
	// browser process lives as long as the context it starts with.
	if err := chromedp.Do(tabCtx, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		t.Fatalf("starting %s: %v\nbrowser output:\n%s", chromium, err, tail(browserNoise.ReplaceAllString(output.String(), ""), 4000))
	}
	ctx, cancel := context.WithTimeout(tabCtx, stepTimeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:     browser.SetDownloadBehaviorBehaviorAllow,
		DownloadPath: downloadDir,
	}); err != nil {
		tb.fatalf("setting the download directory: %v", err)
	}
	return tb
}

// on makes the tab's helpers report to t, the test or subtest of the step
// being run, and returns the tab.
func (tb *tab) on(t *testing.T) *tab {
	tb.t = t
	return tb
}

// do runs actions that return nothing, within one step's time.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value, within one step's time.
func run[T any](tb *tab, what string, action chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page and decodes its value;
// promises are awaited.
func eval[T any](tb *tab, what, expr string) T {
	tb.t.Helper()
	return run(tb, what, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitFor evaluates the JavaScript expression cond until it is true. Errors
// while a page is being replaced (a form post, a redirect) are expected and
// retried; the last one is part of the failure message.
func (tb *tab) waitFor(what, cond string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := func() (bool, error) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		}()
		if err == nil && ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				tb.fatalf("%s: not seen within %v (last error: %v)", what, stepTimeout, lastErr)
			}
			tb.fatalf("%s: not seen within %v", what, stepTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// navigate loads the page at path (relative to the showcase) and waits until
// its document is complete.
func (tb *tab) navigate(path string) {
	tb.t.Helper()
	tb.do("opening "+path, chromedp.Navigate(tb.base+path))
	tb.waitLoaded()
}

// waitLoaded waits until the current document has finished loading.
func (tb *tab) waitLoaded() {
	tb.t.Helper()
	tb.waitFor("the page to finish loading", `document.readyState === "complete"`)
}

// location returns the page's current URL.
func (tb *tab) location() string {
	tb.t.Helper()
	return run(tb, "reading the location", chromedp.Location())
}

// wantPath fails unless the current URL is the showcase's base plus path
// (with its query).
func (tb *tab) wantPath(path string) {
	tb.t.Helper()
	if got, want := tb.location(), tb.base+path; got != want {
		tb.fatalf("the page is at %s, want %s", got, want)
	}
}

// text returns the trimmed visible text of the first element that matches
// the CSS selector, or "" when there is none.
func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return eval[string](tb, "reading "+selector, fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e ? e.innerText.trim() : ""; })()`, jsString(selector)))
}

// visibleText is a JavaScript condition: the element that matches the CSS
// selector is rendered and its visible text matches the regular expression
// re (JavaScript syntax, case-insensitive).
func visibleText(selector, re string) string {
	return fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e || e.getClientRects().length === 0) return false;
		const s = getComputedStyle(e);
		if (s.visibility === "hidden" || s.display === "none") return false;
		return new RegExp(%s, "i").test(e.innerText.trim());
	})()`, jsString(selector), jsString(re))
}

// screenshot saves a full-page PNG of the tab as name.png in the screenshot
// directory.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	path, err := tb.trySave(tb.ctx, name)
	if err != nil {
		tb.fatalf("screenshot %s: %v", name, err)
	}
	return path
}

// trySave takes and writes a full-page screenshot.
func (tb *tab) trySave(ctx context.Context, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	path := filepath.Join(tb.shots, name+".png")
	return path, os.WriteFile(path, png, 0o644)
}

// fatalf fails the test with a screenshot of the page as it is, the page's
// state and the showcase's logs.
func (tb *tab) fatalf(format string, args ...any) {
	tb.t.Helper()
	tb.failure++
	name := fmt.Sprintf("failure-%s-%d", safeName.ReplaceAllString(tb.t.Name(), "_"), tb.failure)
	// The tab's context may be the one that ran out; the screenshot gets
	// its own time, within the whole test's.
	shot, err := tb.trySave(context.WithoutCancel(tb.ctx), name)
	if err != nil {
		shot = fmt.Sprintf("(no screenshot: %v)", err)
	}
	tb.t.Fatalf("%s\nscreenshot: %s\npage: %s\n%s\nbrowser output:\n%s",
		fmt.Sprintf(format, args...), shot, tb.state(), tb.app.Logs(), tail(browserNoise.ReplaceAllString(tb.browser.String(), ""), 2000))
}

// state describes the page for a failure message: its URL and the texts of
// the elements the test looks at.
func (tb *tab) state() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.ctx), 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`(() => {
		const text = sel => { const e = document.querySelector(sel); return e ? e.innerText.trim() : null; };
		const p = document.querySelector("#upload-progress");
		return {
			url: location.href,
			title: document.title,
			user: text("#user"),
			error: text("#error"),
			uploadError: text("#upload-error"),
			progress: p ? p.getAttribute("value") : null,
			percent: text("#upload-percent"),
			files: Array.from(document.querySelectorAll("#files tr.file .file-name")).map(e => e.innerText.trim()),
			body: document.body ? document.body.innerText.slice(0, 500) : null,
		};
	})()`))
	if err != nil {
		return fmt.Sprintf("(unknown: %v)", err)
	}
	var pretty any
	if json.Unmarshal(raw, &pretty) == nil {
		if b, err := json.MarshalIndent(pretty, "", "  "); err == nil {
			raw = b
		}
	}
	return string(raw)
}

// browserNoise matches the lines Chromium prints on every start in a
// container without a desktop (no D-Bus); failure messages leave them out.
var browserNoise = regexp.MustCompile(`(?m)^.*(dbus|D-Bus|unexpected operator).*\n`)

// safeName matches what may not go into a file name.
var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// waitForFile waits until path exists with size bytes and no partial
// download (.crdownload) is left beside it, and returns its contents.
func (tb *tab) waitForFile(path string, size int) []byte {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		data, err := os.ReadFile(path)
		partial, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.crdownload"))
		if err == nil && len(data) == size && len(partial) == 0 {
			return data
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.fatalf("reading the download %s: %v", path, err)
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(filepath.Dir(path))
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			tb.fatalf("the download %s did not arrive within %v with %d bytes (got %d bytes, err %v; the directory holds %s)",
				path, stepTimeout, size, len(data), err, strings.Join(names, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
