package browsertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The showcase's -max-upload in this test.
const (
	maxUploadFlag = "1MiB"
	maxUpload     = 1 << 20
)

// testTimeout bounds the whole browser run (the build has its own).
const testTimeout = 2 * time.Minute

// TestShowcaseInBrowser walks through the file drop as a person would:
// login, upload with the progress bar, list, download, files refused, the
// admin and streaming pages, logout. Each step is a subtest; a step that
// fails ends the walk, with a screenshot (see the package documentation).
func TestShowcaseInBrowser(t *testing.T) {
	chromium := findChromium(t)
	if testing.Short() {
		t.Skip("a browser test; skipped with -short")
	}

	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 5*time.Minute)
	bin := buildShowcase(t, buildCtx)
	cancelBuild()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	app := startShowcase(t, ctx, bin, "-max-upload", maxUploadFlag, "-workers", "0")
	w := &walk{
		app:       app,
		downloads: t.TempDir(),
		files:     t.TempDir(),
	}
	w.tab = openTab(t, ctx, chromium, app, screenshotDir(t), w.downloads)

	steps := []struct {
		name string
		run  func(*tab)
	}{
		{"anonymous visit goes to the login page", w.anonymousVisit},
		{"wrong password shows an error", w.wrongPassword},
		{"login leads to the file list", w.login},
		{"upload shows progress and adds a row", w.upload},
		{"download gives the same bytes", w.download},
		{"file over the limit is refused", w.tooLarge},
		{"file of a refused type is refused", w.wrongType},
		{"admin page", w.admin},
		{"streamed page", w.stream},
		{"logout", w.logout},
	}
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			step.run(w.tab.on(t))
		})
		if !ok {
			t.Fatalf("step %q failed; the steps after it depend on it", step.name)
		}
	}
}

// walk is the state the steps share: the app, the file picked for upload
// and where the browser saves downloads.
type walk struct {
	app       *showcase
	tab       *tab
	downloads string // the browser's download directory
	files     string // the files the person picks

	notes   []byte // the uploaded file
	notesID string // its id in the showcase
}

// pick writes a file the person will choose in the file dialog.
func (w *walk) pick(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(w.files, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (w *walk) anonymousVisit(tb *tab) {
	tb.navigate("/")
	tb.wantPath("/login?next=%2F")
	tb.do("finding the login form",
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
	)
	if user := tb.text("#user"); user != "" {
		tb.fatalf("#user reads %q for an anonymous visitor", user)
	}
	tb.screenshot("login")
}

func (w *walk) wrongPassword(tb *tab) {
	tb.do("logging in with a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), "demo"),
		chromedp.SendKeys(chromedp.ID("password"), "not-"+w.app.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	tb.waitFor("an error message in #error", visibleText("#error", `\S`))
	tb.waitLoaded()
	if got := tb.location(); !strings.HasPrefix(got, tb.base+"/login") {
		tb.fatalf("after a wrong password the page is at %s, want the login page", got)
	}
	if user := tb.text("#user"); user != "" {
		tb.fatalf("after a wrong password #user reads %q, want no user", user)
	}
	tb.screenshot("login-error")
}

func (w *walk) login(tb *tab) {
	tb.do("finding the login form", chromedp.WaitVisible(chromedp.ID("password")))
	// The page may keep the user name; the test types both anew.
	eval[bool](tb, "emptying the login form", `(() => {
		for (const id of ["username", "password"]) document.getElementById(id).value = "";
		return true;
	})()`)
	tb.do("logging in",
		chromedp.SendKeys(chromedp.ID("username"), "demo"),
		chromedp.SendKeys(chromedp.ID("password"), w.app.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	tb.waitFor("the upload form", visibleText("#upload-form", `.*`))
	tb.waitLoaded()
	tb.wantPath("/")
	if user := tb.text("#user"); !strings.Contains(user, "demo") {
		tb.fatalf("#user reads %q, want it to name demo", user)
	}
	if n := eval[int](tb, "counting files", `document.querySelectorAll("#files tr.file").length`); n != 0 {
		tb.fatalf("a new user's list has %d files, want 0", n)
	}
}

func (w *walk) upload(tb *tab) {
	w.notes = textFile(300 << 10)
	path := w.pick(tb.t, "field-notes.txt", w.notes)

	// A recorder notes every value the bar and its text take, so the test
	// sees them move without racing the upload.
	eval[bool](tb, "watching the progress bar", `(() => {
		window.progressSeen = [];
		const bar = document.querySelector("#upload-progress");
		const pct = document.querySelector("#upload-percent");
		const note = () => window.progressSeen.push([bar.getAttribute("value"), pct.innerText.trim()]);
		new MutationObserver(note).observe(bar, {attributes: true, attributeFilter: ["value"]});
		new MutationObserver(note).observe(pct, {childList: true, characterData: true, subtree: true});
		return true;
	})()`)
	tb.do("uploading field-notes.txt",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}),
		chromedp.Click(chromedp.ID("upload-submit")),
	)
	tb.waitFor("the file's row in #files", fileRow("field-notes.txt"))
	tb.waitLoaded()

	// The page keeps the bar at 100% until the next upload.
	progress := eval[progressState](tb, "reading the progress bar", progressJS)
	tb.t.Logf("progress bar values seen during the upload: %v", progress.Seen)
	if progress.Value != "100" || progress.Percent != "100%" {
		tb.fatalf("after the upload the progress bar is at value=%q, #upload-percent=%q; want 100 and 100%% (seen while uploading: %v)",
			progress.Value, progress.Percent, progress.Seen)
	}
	last := -1
	for _, seen := range progress.Seen {
		v, err := strconv.Atoi(seen[0])
		if err != nil || v < last && !(last == 100 && v == 0) || seen[1] != "" && !strings.HasSuffix(seen[1], "%") {
			tb.fatalf("the progress bar went through %v; want numbers that only grow", progress.Seen)
		}
		last = v
	}
	if uploadErr := tb.text("#upload-error"); uploadErr != "" {
		tb.fatalf("#upload-error reads %q after a good upload", uploadErr)
	}
	tb.screenshot("upload-progress")

	row := eval[fileRowState](tb, "reading the file's row", fileRowJS("field-notes.txt"))
	if row.ID == "" || row.Href != "/files/"+row.ID {
		tb.fatalf("the row of field-notes.txt has data-id %q and download link %q, want /files/<data-id>", row.ID, row.Href)
	}
	if row.Size == "" {
		tb.fatalf("the row of field-notes.txt shows no size")
	}
	w.notesID = row.ID

	// The list is the server's, not only the page's: it is there after a
	// reload, with the same id.
	tb.navigate("/")
	tb.waitFor("the file's row after a reload", fileRow("field-notes.txt"))
	if again := eval[fileRowState](tb, "reading the file's row", fileRowJS("field-notes.txt")); again != row {
		tb.fatalf("after a reload the row of field-notes.txt is %+v, want %+v", again, row)
	}
	tb.screenshot("files")
}

// download clicks the link and compares the saved file; the browser's
// download goes to a directory set with Browser.setDownloadBehavior. Then it
// reads the headers of the same link with fetch() in the page, with the
// person's cookies.
func (w *walk) download(tb *tab) {
	tb.do("clicking the download link",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#files tr.file[data-id=%q] a.download`, w.notesID))),
	)
	got := tb.waitForFile(filepath.Join(w.downloads, "field-notes.txt"), len(w.notes))
	if !bytes.Equal(got, w.notes) {
		tb.fatalf("the downloaded file differs from the uploaded one (sha256 %s, want %s)", sum(got), sum(w.notes))
	}
	tb.wantPath("/")

	head := eval[downloadHeaders](tb, "fetching the download link", fmt.Sprintf(`fetch(%s).then(async r => ({
		status: r.status,
		disposition: r.headers.get("Content-Disposition") || "",
		nosniff: r.headers.get("X-Content-Type-Options") || "",
		type: r.headers.get("Content-Type") || "",
		sha256: Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", await r.arrayBuffer())))
			.map(b => b.toString(16).padStart(2, "0")).join(""),
	}))`, jsString("/files/"+w.notesID)))
	if head.Status != 200 || !strings.HasPrefix(head.Disposition, "attachment") ||
		!strings.Contains(head.Disposition, "field-notes.txt") || head.Nosniff != "nosniff" ||
		!strings.HasPrefix(head.Type, "text/plain") || head.SHA256 != sum(w.notes) {
		tb.fatalf("GET /files/%s answered %+v; want 200, an attachment named field-notes.txt, nosniff, text/plain, sha256 %s",
			w.notesID, head, sum(w.notes))
	}
}

// tooLarge picks a file a byte over the limit: the page refuses it before
// sending. The server's own refusal is then checked from the page with
// fetch(), as a browser without the page's check would send it.
func (w *walk) tooLarge(tb *tab) {
	path := w.pick(tb.t, "too-big.txt", textFile(maxUpload+1))
	tb.do("uploading too-big.txt",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}),
		chromedp.Click(chromedp.ID("upload-submit")),
	)
	tb.waitFor(`"too large" in #upload-error`, visibleText("#upload-error", `too large`))
	tb.waitLoaded()
	if n := eval[int](tb, "counting rows", rowCount("too-big.txt")); n != 0 {
		tb.fatalf("too-big.txt is in the list after it was refused")
	}
	tb.screenshot("too-large")

	got := eval[uploadAnswer](tb, "posting a file over the limit with fetch()", postFileJS("fetched-too-big.txt", maxUpload+1, "a"))
	if got.Status != 413 || !strings.Contains(got.Error, "too large") {
		tb.fatalf("POST /files with %d bytes from the page answered %+v; want 413 and a message with \"too large\"", maxUpload+1, got)
	}
	got = eval[uploadAnswer](tb, "posting a file at the limit with fetch()", postFileJS("at-the-limit.txt", maxUpload, "a"))
	if got.Status != 201 {
		tb.fatalf("POST /files with %d bytes from the page answered %+v; want 201", maxUpload, got)
	}
}

// wrongType uploads an HTML page, which the showcase refuses by its sniffed
// content; the page shows the server's message.
func (w *walk) wrongType(tb *tab) {
	tb.navigate("/")
	path := w.pick(tb.t, "page.html", []byte("<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n"))
	tb.do("uploading page.html",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}),
		chromedp.Click(chromedp.ID("upload-submit")),
	)
	tb.waitFor(`"not allowed" in #upload-error`, visibleText("#upload-error", `not allowed`))
	if n := eval[int](tb, "counting rows", rowCount("page.html")); n != 0 {
		tb.fatalf("page.html is in the list after it was refused")
	}
	if p := eval[progressState](tb, "reading the progress bar", progressJS); p.Percent == "100%" {
		tb.fatalf("the progress bar reads 100%% after a refused upload")
	}
}

func (w *walk) admin(tb *tab) {
	tb.navigate("/admin")
	tb.wantPath("/admin")
	tb.waitFor("the admin page", visibleText("#uptime", `\S`))
	// Two files: field-notes.txt and the one at the limit.
	for sel, want := range map[string]string{
		"#store-kind": `^memory$`,
		"#file-count": `^2\b`,
		"#workers":    `none`,
		"#user":       `demo`,
	} {
		tb.waitFor(sel+" matching "+want, visibleText(sel, want))
	}
	tb.screenshot("admin")
}

// stream opens the WSAPI-style streamed page. A script that runs before the
// page notes how many chunks were in the document each time it grew, to
// see that they came one after the other, not as one piece.
func (w *walk) stream(tb *tab) {
	script := run(tb, "adding the chunk recorder", func(ctx context.Context, t *chromedp.Target) (page.ScriptIdentifier, error) {
		res, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (location.pathname === "/stream") {
				window.chunksSeen = [];
				new MutationObserver(() => {
					const n = document.querySelectorAll("#chunks li").length;
					if (n > 0 && window.chunksSeen[window.chunksSeen.length - 1] !== n) window.chunksSeen.push(n);
				}).observe(document, {childList: true, subtree: true});
			}`,
		})
		return res.Identifier, err
	})
	defer func() {
		ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
		defer cancel()
		_, err := chromedp.Call(ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: script})
		if err != nil {
			tb.t.Errorf("removing the chunk recorder: %v", err)
		}
	}()

	tb.navigate("/stream")
	tb.wantPath("/stream")
	tb.waitFor("the end of the stream", visibleText("#stream-done", `All 10 chunks sent`))
	chunks := eval[[]string](tb, "reading the chunks", `Array.from(document.querySelectorAll("#chunks li")).map(e => e.innerText.trim())`)
	if len(chunks) != 10 {
		tb.fatalf("the page has %d chunks, want 10: %q", len(chunks), chunks)
	}
	for i, c := range chunks {
		if want := fmt.Sprintf("chunk %d of 10", i+1); !strings.HasPrefix(c, want) {
			tb.fatalf("chunk %d reads %q, want %q", i+1, c, want)
		}
	}
	// With -workers 0 the page runs in the server process.
	if pid := tb.text("#stream-pid"); pid != strconv.Itoa(w.app.cmd.Process.Pid) {
		tb.fatalf("#stream-pid reads %q, want the showcase's pid %d", pid, w.app.cmd.Process.Pid)
	}
	if user := tb.text("#user"); !strings.Contains(user, "demo") {
		tb.fatalf("#user on the streamed page reads %q, want demo", user)
	}
	seen := eval[[]int](tb, "reading the chunk recorder", `window.chunksSeen || []`)
	tb.t.Logf("chunks in the document as the page arrived: %v", seen)
	// The chunks are 300ms apart: a page held back and sent in one piece
	// would show all ten at once.
	if !slices.ContainsFunc(seen, func(n int) bool { return n > 0 && n < 10 }) {
		tb.fatalf("the browser saw the chunks arrive as %v; want them one after the other", seen)
	}
	tb.screenshot("stream")
}

func (w *walk) logout(tb *tab) {
	tb.navigate("/")
	tb.do("logging out", chromedp.Click(chromedp.ID("logout")))
	tb.waitFor("the login form after logging out", visibleText("#login-form", `.*`))
	tb.waitLoaded()
	if got := tb.location(); !strings.HasPrefix(got, tb.base+"/login") {
		tb.fatalf("after logging out the page is at %s, want the login page", got)
	}
	tb.navigate("/")
	tb.wantPath("/login?next=%2F")
	tb.navigate("/admin")
	if got := tb.location(); !strings.HasPrefix(got, tb.base+"/login") {
		tb.fatalf("after logging out /admin is at %s, want the login page", got)
	}
}

// textFile returns n bytes of numbered lines of text.
func textFile(n int) []byte {
	var b bytes.Buffer
	for i := 1; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%06d  Notes from the field: the quick brown fox jumps over the lazy dog.\n", i)
	}
	return b.Bytes()[:n]
}

// sum returns the hex SHA-256 of data.
func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// rowCount is JavaScript for the number of rows of the file name in #files.
func rowCount(name string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll("#files tr.file .file-name")).filter(e => e.innerText.trim() === %s).length`, jsString(name))
}

// fileRow is a JavaScript condition: #files has a row for the file name.
func fileRow(name string) string {
	return rowCount(name) + " > 0"
}

// fileRowState is a file's row in #files.
type fileRowState struct {
	ID   string `json:"id"`
	Href string `json:"href"`
	Size string `json:"size"`
}

// fileRowJS reads the row of the file name.
func fileRowJS(name string) string {
	return fmt.Sprintf(`(() => {
		const tr = Array.from(document.querySelectorAll("#files tr.file")).find(tr => {
			const n = tr.querySelector(".file-name");
			return n && n.innerText.trim() === %s;
		});
		if (!tr) return {id: "", href: "", size: ""};
		const a = tr.querySelector("a.download");
		const s = tr.querySelector(".file-size");
		return {id: tr.dataset.id || "", href: a ? a.getAttribute("href") : "", size: s ? s.innerText.trim() : ""};
	})()`, jsString(name))
}

// progressState is the progress bar, and the values the recorder saw while
// an upload ran: pairs of the bar's value and the text of #upload-percent.
type progressState struct {
	Value   string     `json:"value"`
	Percent string     `json:"percent"`
	Seen    [][]string `json:"seen"`
}

const progressJS = `(() => {
	const bar = document.querySelector("#upload-progress");
	const pct = document.querySelector("#upload-percent");
	return {
		value: bar ? (bar.getAttribute("value") || String(bar.value)) : "",
		percent: pct ? pct.innerText.trim() : "",
		seen: window.progressSeen || [],
	};
})()`

// downloadHeaders is what fetch() saw of a download link.
type downloadHeaders struct {
	Status      int    `json:"status"`
	Disposition string `json:"disposition"`
	Nosniff     string `json:"nosniff"`
	Type        string `json:"type"`
	SHA256      string `json:"sha256"`
}

// uploadAnswer is the showcase's answer to an upload posted with fetch().
type uploadAnswer struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// postFileJS is JavaScript that posts a file of size bytes of fill to
// /files as the page's script does (multipart, Accept JSON) and returns
// the status and the error message.
func postFileJS(name string, size int, fill string) string {
	return fmt.Sprintf(`(async () => {
		const form = new FormData();
		form.append("file", new File([%s.repeat(%d)], %s, {type: "text/plain"}));
		const r = await fetch("/files", {method: "POST", body: form, headers: {Accept: "application/json"}});
		let body = {};
		try { body = await r.json(); } catch (e) {}
		return {status: r.status, error: body.error || ""};
	})()`, jsString(fill), size, jsString(name))
}
