// Package peers measures a full wsapi stack against the stacks its peers
// build for the same job, around the same app.
//
// # Variants
//
// One hello app (Hello: "Hello Wsapi!\n", 200, text/plain) is served by
// four variants (Names):
//
//   - "bare": the app alone, on net/http;
//   - "full": a wsapi.Stack of the logging filter (JSON access lines on
//     zerolog), isolate (Recover and Bulkhead, and a Deadline next to the
//     app, as the isolate docs advise), the session filter on the memory
//     store, the auth filter with a bearer token and auth.Require, and a
//     filters/mux mounting the app at /hello;
//   - "chi": what a chi user builds by hand for the same job: chi's
//     RequestID, RealIP, zerolog's hlog handlers with an access line,
//     Recoverer, Timeout, scs's LoadAndSave on its memory store and
//     BasicAuth, on a chi router that mounts the app at /hello;
//   - "negroni": negroni's Classic (Recovery, Logger, Static), its logger
//     writing to io.Discard.
//
// Build makes one; the request to send is NewRequest with the variant's
// credentials (Built.Prepare). The tests check that every variant answers
// that request with the same status and body, and that each filter is at
// work (a session, an identity, a deadline, a request id, an access line),
// so that a variant that skips a job cannot look fast.
//
// # Measurements
//
// The benchmarks (go test -bench Peers) serve the request through each
// variant with a reusable Writer, serially and with b.RunParallel, and
// report the process's CPU time per request (cpu-ns/op, CPUTime) beside
// ns/op. BenchmarkFilterAlone measures each part of the full and the chi
// stacks alone; BenchmarkStackPrefix and BenchmarkChiPrefix build each
// stack one part at a time, so that neighbours differ by what one part
// adds. TestVariantAllocs holds each variant to its allocation count.
//
// The command cmd/peerserver serves one variant for wrk, and
// cmd/peerreport turns the outputs of both into a table (Table), a
// markdown report (Markdown) and a chart (NewChart, Chart.WriteSVG).
// bench/peers.sh at the root of the repository runs it all.
package peers
