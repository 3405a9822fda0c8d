// Package browsertest drives the showcase file drop (examples/showcase) in a
// real, headless Chromium, the way a person would use it.
//
// The package holds only a test. It builds the showcase binary, starts it on
// a free port of 127.0.0.1 with its own data directory, reads the generated
// demo password from the start-up lines, and walks through the app with
// chromedp, one subtest per step: the login page and its error message, the
// upload with its progress bar, the file list, the download, the files the
// app refuses (too large, wrong type), the admin and streaming pages, and the
// logout. A step that fails ends the walk.
//
// # Running
//
// The test needs Chromium (Debian: apt-get install chromium). Without it the
// test is skipped with a message that says "service unavailable"; -short
// skips it too.
//
//	cd examples/showcase/browsertest
//	go test -race -count=1 ./...
//
// This module keeps the showcase as a tool (the tool line of go.mod) and
// replaces the main module with the working tree, so the test's go build
// compiles the code beside it. When the test runs with -race, the showcase
// is built with -race too, and a race it reports fails the test.
//
// Environment:
//
//   - CHROMIUM: the browser binary; default chromium (or chromium-browser,
//     google-chrome) on PATH.
//   - SHOWCASE_BIN: a showcase binary built beforehand, used instead of
//     building one.
//   - SCREENSHOT_DIR: where the screenshots of every step go (the project's
//     docs/screenshots are made this way). Without it they go to a temporary
//     directory whose path the test logs, kept only when the test fails.
//
// The showcase runs with its in-memory session store whatever SHOWCASE_*
// variables the environment has.
//
// # Screenshots
//
// Every screenshot is a full-page PNG of a 1280x800 viewport: login,
// login-error, upload-progress, files, too-large, admin and stream. A
// failing step takes a screenshot of the page as it is, and its path is part
// of the failure message, with the page's state and the showcase's logs.
package browsertest
