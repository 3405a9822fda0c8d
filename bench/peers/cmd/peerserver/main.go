// Command peerserver serves one variant of the peer benchmarks (package
// peers) on a plain http.Server, for wrk:
//
//	peerserver -variant full -addr 127.0.0.1:0
//
// Once listening it checks that the variant answers its request with 200
// and the hello body, over HTTP, and then prints, one per line:
//
//	url=http://127.0.0.1:40123/hello/world
//	header=Authorization: Bearer ...   (empty for a variant without credentials)
//	ready
//
// It serves until SIGINT or SIGTERM. With -cpuprofile it writes a CPU
// profile of the whole time it served (for go tool pprof). It exits with
// status 1 when the variant does not answer as it should, 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi/bench/peers"
)

func main() {
	variant := flag.String("variant", peers.Full, "the variant to serve: "+strings.Join(peers.Names, ", "))
	addr := flag.String("addr", "127.0.0.1:0", "`address` to listen on (port 0: a free port)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "peerserver: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "peerserver: %v\n", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "peerserver: %v\n", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "peerserver: %v\n", err)
			}
		}()
	}
	if err := run(ctx, *variant, *addr, os.Stdout); err != nil {
		if *cpuprofile != "" {
			pprof.StopCPUProfile()
		}
		fmt.Fprintf(os.Stderr, "peerserver: %v\n", err)
		code := 1
		if errors.Is(err, peers.ErrUnknownVariant) {
			code = 2
		}
		os.Exit(code)
	}
}

// run serves variant on addr until ctx is done, after printing the url,
// the credentials header and "ready" to out.
func run(ctx context.Context, variant, addr string, out io.Writer) error {
	v, err := peers.Build(variant, peers.Options{})
	if err != nil {
		return err
	}
	defer v.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: v.Handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		<-done
	}()

	url := "http://" + ln.Addr().String() + peers.Path
	if err := check(ctx, url, v); err != nil {
		return fmt.Errorf("variant %s: %w", variant, err)
	}
	header := ""
	if v.Header != "" {
		header = v.Header + ": " + v.Value
	}
	if _, err := fmt.Fprintf(out, "url=%s\nheader=%s\nready\n", url, header); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		done <- err // for the deferred Close
		return err
	}
}

// check asks url once, as wrk will, and wants 200 and the hello body.
func check(ctx context.Context, url string, v *peers.Built) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	v.Prepare(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != peers.Body {
		return fmt.Errorf("answered %d %q, want 200 %q", resp.StatusCode, body, peers.Body)
	}
	return nil
}
