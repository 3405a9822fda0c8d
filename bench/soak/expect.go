package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// What the showcase's pages hold (examples/showcase's templates), for the
// body checks.
const (
	markUser       = `<span id="user">demo</span>`
	markFiles      = `<table id="files">`
	markUploadForm = `<form id="upload-form"`
	markAdmin      = `id="uptime"`
	markAdminStore = `id="store-kind">redis<`
	markLoginError = `id="error"`
	markLoginForm  = `<form id="login-form"`
)

// apiUserIsDemo: the API token belongs to the demo user, so a file
// uploaded through the API can be deleted with the demo's session.
const apiUserIsDemo = true

// checkStream checks the body of /stream?n=N: N chunks, in order, and the
// closing paragraph.
func checkStream(body []byte, n int) string {
	if got := bytes.Count(body, []byte(`<li class="chunk">`)); got != n {
		return fmt.Sprintf("stream: %d chunks, want %d", got, n)
	}
	last := []byte(`<li class="chunk">chunk ` + strconv.Itoa(n) + ` of ` + strconv.Itoa(n) + `,`)
	if !bytes.Contains(body, last) {
		return fmt.Sprintf("stream: no chunk %d of %d", n, n)
	}
	done := []byte(`id="stream-done" class="flash ok">All ` + strconv.Itoa(n) + ` chunks sent.`)
	if !bytes.Contains(body, done) || !bytes.Contains(body, []byte(markUser)) {
		return "stream: no closing paragraph or no user name"
	}
	return ""
}

// checkFlash checks the page after a form upload of name: the flash
// message (kept in the session between the two requests) names the file.
// When the page shows an upload error instead, the problem quotes it.
func checkFlash(page []byte, name string) string {
	if bytes.Contains(page, []byte(`role="status">Uploaded `+name+` (`)) {
		return ""
	}
	if msg := uploadError(page); msg != "" {
		return fmt.Sprintf("the form upload of %s failed: %q", name, msg)
	}
	return fmt.Sprintf("the page after the form upload has no flash for %s", name)
}

// uploadError returns the text of the page's #upload-error, "" when it is
// hidden or missing.
func uploadError(page []byte) string {
	const mark = `<p id="upload-error" class="flash error" role="alert">`
	i := bytes.Index(page, []byte(mark))
	if i < 0 {
		return ""
	}
	rest := page[i+len(mark):]
	j := bytes.Index(rest, []byte("</p>"))
	if j < 0 {
		return ""
	}
	return string(bytes.TrimSpace(rest[:j]))
}
