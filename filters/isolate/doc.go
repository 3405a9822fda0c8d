// Package isolate keeps one request's failure, slowness or state from
// harming the others: it recovers panics, puts deadlines on requests,
// limits how many run at once, serves an app from fresh or pooled
// instances, and runs an app in supervised worker processes.
//
// # Filters
//
// Each part is a filter value of its own, with Name and Wrap:
//
//   - [Recover]: a panic before the headers are out becomes a 500 with a
//     short body; after, the connection is aborted (the panic goes on as
//     http.ErrAbortHandler, after the exchange was marked with
//     filter.Exchange.SetAborted, so the access log says so). A panic
//     while a filter.AppFunc's body iterator streams is caught the same
//     way. http.ErrAbortHandler itself is passed on untouched. Each panic
//     is logged with its stack and published as [EventPanic].
//   - [Deadline]: a deadline on the request's context. Passed before the
//     headers, the client gets 503 (or 504) at once and the app's later
//     writes are dropped (through a filter.Gate); the answer is written
//     below the exchange, without the outer filters' before-headers hooks,
//     and recorded on the exchange when the app returned. Passed after,
//     the stream is cut by moving the connection's write deadline to that
//     moment (http.ResponseController) and the connection is aborted.
//     Nothing is buffered.
//   - [Bulkhead]: at most Max requests in the app, a bounded queue with a
//     maximum wait, 503 with Retry-After beyond. A slot is released when
//     the app returns, so also on panic and client disconnect, and never
//     before; a queued request leaves the queue when its client goes away.
//
// [Filter] (made by [New]) is the three together, in this order from the
// outside in:
//
//	Recover → Bulkhead → Deadline → app
//
// Recover is outermost so it also catches what the others pass on; the
// bulkhead comes before the deadline, so a request's time starts when it
// gets its slot, and the slot is held until the app has returned. Put the
// logging filter outside isolate, so the access line sees the 500, the
// 503 or the abort. Deadline is best next to the app, inside session or
// auth filters: its answer skips the before-headers hooks of the filters
// outside it, so a session does not send a cookie with a 503. Built that
// way, the Filter does recovery and concurrency (a zero timeout leaves its
// Deadline out), and a Deadline of its own goes last:
//
//	iso := isolate.New(0, 200) // no deadline here, concurrency
//	iso.Bulkhead.Queue = 100
//	iso.Bulkhead.MaxWait = time.Second
//	deadline := &isolate.Deadline{Timeout: 10 * time.Second}
//	stack := wsapi.New(logs, iso, sessions, deadline)
//
// # Instances
//
// After WSAPI's isolated loaders, an app can be made by a [Factory] and
// served by [Fresh] (a new instance per request) or by a [Pool] (instances
// that serve one request at a time, made on demand up to Max, retired
// after TTL, MaxRequests or IdleTimeout, and collected in the background).
// [Pool.Reload] builds a new generation without failing a request: the
// requests in flight finish on the old instances, which are closed when
// they come back; a reload whose factory fails changes nothing. While the
// factory fails, a request that needs a new instance waits for one of the
// instances still alive, as for a busy pool; instances still retire after
// TTL, MaxRequests or IdleTimeout, so a pool whose factory keeps failing
// shrinks, and answers 503 once none is left. [Watch] reloads on a signal
// or when a file changes. An instance whose request panicked is retired.
//
// # Processes
//
// [Workers] runs an app in N worker processes, each serving HTTP on its
// own unix socket, and proxies requests to the least busy one
// (httputil.ReverseProxy). A supervisor restarts a worker that exits, with
// exponential backoff, and kills one that does not get ready in time.
// Each worker leads a process group of its own: the processes it starts
// are stopped and killed with it. A
// worker that panics, calls os.Exit or is killed costs only its requests
// in flight: 502 before their headers, an aborted connection after. The
// worker is any program that follows the protocol described at
// [WorkerEnv], or this same program started again: it sees [IsWorker] and
// calls [ServeWorker]. Limits sets RLIMIT_AS and RLIMIT_CPU on each
// worker (with prlimit on Linux, and by ServeWorker itself before it
// serves).
//
//	func main() {
//		app := newApp()
//		if isolate.IsWorker() {
//			if err := isolate.ServeWorker(app); err != nil {
//				log.Fatal(err)
//			}
//			return
//		}
//		ws := &isolate.Workers{N: 4, Limits: isolate.Limits{AS: 2 << 30}}
//		if err := ws.Start(); err != nil {
//			log.Fatal(err)
//		}
//		defer ws.Close()
//		log.Fatal(http.ListenAndServe(":8080", ws))
//	}
//
// # Events
//
// Published on each value's Hub (filter.DefaultHub when unset):
// [EventPanic], [EventTimeout], [EventRejected], [EventInstanceError],
// [EventReload], [EventWorkerStart], [EventWorkerExit] and
// [EventWorkerError]; their payload types are documented with them.
package isolate
