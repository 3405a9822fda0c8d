// Command frameworks serves the same routes, behind the same filter values,
// with the router of your choice: net/http's ServeMux, chi, echo (through
// adapters/wsecho) or gin (through adapters/wsgin).
//
// Run it from this folder:
//
//	go run . -router echo              # then: curl -i http://127.0.0.1:8080/count
//
// -router is servemux (the default), chi, echo or gin; -addr is the address
// (default 127.0.0.1:8080). A user "demo" may log in with the password
// printed at start (or set with -password):
//
//	curl -i -c jar -b jar -d username=demo -d password=PW http://127.0.0.1:8080/login
//	curl -i -c jar -b jar http://127.0.0.1:8080/me
//	curl -i -c jar -b jar -F file=@main.go http://127.0.0.1:8080/upload
//
// The access log goes to standard error, one JSON line per request. Every
// router gives the same answers and the same log lines; the test of this
// folder checks it.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "frameworks:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	names := make([]string, 0, len(Routers))
	for name := range Routers {
		names = append(names, name)
	}
	slices.Sort(names)
	fs := flag.NewFlagSet("frameworks", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	router := fs.String("router", "servemux", "the router: "+strings.Join(names, ", "))
	password := fs.String("password", "", "the demo user's `password` (default: generated and printed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	newRouter, ok := Routers[*router]
	if !ok {
		return fmt.Errorf("unknown -router %q: use one of %s", *router, strings.Join(names, ", "))
	}

	dir, err := os.MkdirTemp("", "wsapi-frameworks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *password == "" {
		*password = rand.Text()[:12]
		fmt.Printf("user demo, password %s\n", *password)
	}
	users, err := demoUsers(dir, "demo", *password, bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	store, err := session.OpenStore("memory:")
	if err != nil {
		return err
	}
	defer store.Close()

	uploads := filepath.Join(dir, "uploads")
	if err := os.Mkdir(uploads, 0o700); err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode) // no debug lines on standard output
	f := NewFilters(Config{AccessLog: os.Stderr, Store: store, Users: users, UploadDir: uploads})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := wsapi.Launcher{Addr: *addr, Stack: f.Stack(), Logger: slog.Default().With("router", *router)}
	return l.Run(ctx, newRouter(f))
}

// demoUsers writes an htpasswd file with one user into dir and opens it.
func demoUsers(dir, user, password string, cost int) (*auth.Htpasswd, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return auth.OpenHtpasswd(path)
}
