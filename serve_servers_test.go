package wsapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/testservice"
)

// buildHello builds examples/hello into a temporary directory.
func buildHello(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hello")
	out, err := exec.Command("go", "build", "-o", bin, "./examples/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./examples/hello: %v\n%s", err, out)
	}
	return bin
}

// checkHello runs GET, HEAD and a POST of 10 MiB against base+"/hello/world"
// and checks what examples/hello answers through the web server.
func checkHello(t *testing.T, base string, ws *testservice.WebServer) {
	t.Helper()
	const posted = 10 << 20
	tests := []struct {
		method string
		path   string
		body   io.Reader
		want   []string
	}{
		{"GET", "/hello/world", nil, []string{"<p>Hello Wsapi!</p>", "<p>PATH_INFO: /world</p>", "<p>SCRIPT_NAME: /hello</p>"}},
		{"GET", "/hello/a/b?x=1", nil, []string{"<p>PATH_INFO: /a/b</p>", "<p>SCRIPT_NAME: /hello</p>"}},
		{"HEAD", "/hello/world", nil, nil},
		{"POST", "/hello/upload", bytes.NewReader(bytes.Repeat([]byte("x"), posted)),
			[]string{"<p>PATH_INFO: /upload</p>", fmt.Sprintf("<p>POST body: %d bytes</p>", posted)}},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, tt.body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tt.method, tt.path, err, ws.ErrorLog())
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: body: %v", tt.method, tt.path, err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: status %d, body %q\n%s", tt.method, tt.path, resp.StatusCode, b, ws.ErrorLog())
		}
		if got := resp.Header.Get("X-Powered-By"); got != "wsapi-go" {
			t.Errorf("%s %s: X-Powered-By %q, want wsapi-go", tt.method, tt.path, got)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, got)
		}
		if tt.method == "HEAD" && len(b) != 0 {
			t.Errorf("HEAD: body %q, want none", b)
		}
		for _, want := range tt.want {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s %s: body %q lacks %q", tt.method, tt.path, b, want)
			}
		}
	}
}

// nginxFastCGI is the nginx server block passing /hello to a FastCGI
// responder at pass, with SCRIPT_NAME /hello and PATH_INFO below it.
func nginxFastCGI(pass string) string {
	return `location /hello {
			fastcgi_split_path_info ^(/hello)(/.*)?$;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;
			fastcgi_param REQUEST_METHOD $request_method;
			fastcgi_param REQUEST_URI $request_uri;
			fastcgi_param QUERY_STRING $query_string;
			fastcgi_param CONTENT_TYPE $content_type;
			fastcgi_param CONTENT_LENGTH $content_length;
			fastcgi_param SCRIPT_NAME $fastcgi_script_name;
			fastcgi_param PATH_INFO $fastcgi_path_info;
			fastcgi_param SERVER_PROTOCOL $server_protocol;
			fastcgi_param SERVER_NAME $server_name;
			fastcgi_param SERVER_PORT $server_port;
			fastcgi_param REMOTE_ADDR $remote_addr;
			fastcgi_param REMOTE_PORT $remote_port;
			fastcgi_pass ` + pass + `;
		}`
}

func TestNginxInFrontOfHelloOverFastCGI(t *testing.T) {
	bin := buildHello(t)
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			var addr, pass string
			if network == "tcp" {
				ln := freeAddr(t)
				addr, pass = ln, ln
			} else {
				addr = filepath.Join(t.TempDir(), "hello.sock")
				pass = "unix:" + addr
			}
			cmd := exec.Command(bin, "-fastcgi", addr)
			resp := testservice.StartResponder(t, cmd, network, addr)
			ws := testservice.StartNginx(t, nginxFastCGI(pass))
			checkHello(t, ws.URL(), ws)
			if !strings.Contains(resp.Log(), "mode=fastcgi") {
				t.Errorf("start-up log %q does not say fastcgi", resp.Log())
			}
		})
	}
}

func TestSpawnFCGIHandsHelloItsSocketOnStdin(t *testing.T) {
	bin := buildHello(t)
	resp := testservice.SpawnFCGI(t, nil, bin)
	ws := testservice.StartNginx(t, nginxFastCGI(resp.Address))
	checkHello(t, ws.URL(), ws)
	if !strings.Contains(resp.Log(), "mode=fastcgi") {
		t.Errorf("start-up log %q does not say fastcgi", resp.Log())
	}
}

func TestLighttpdRunsHelloAsCGI(t *testing.T) {
	bin := buildHello(t)
	ws := testservice.StartLighttpd(t, fmt.Sprintf(`server.modules = ("mod_alias", "mod_cgi")
alias.url = ("/hello" => %q)
cgi.assign = ("" => "")
`, bin))
	checkHello(t, ws.URL(), ws)
}

// freeAddr returns a 127.0.0.1 address with a port nothing listened on a
// moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestNginxWithItsStockFastCGIParams(t *testing.T) {
	// nginx's own fastcgi_params send SCRIPT_NAME as the whole path, and no
	// PATH_INFO: the app is at the root, and every path is its own.
	mux := http.NewServeMux()
	show := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s mount=%s prefix=%s pathinfo=%s", r.URL.Path, filter.MountPoint(r), filter.PrefixMountPoint(r), filter.PathInfo(r))
	}
	mux.HandleFunc("/dir/", show)
	mux.HandleFunc("/", show)
	addr, _ := startResponder(t, "tcp", mux)
	ws := testservice.StartNginx(t, `location / {
			include /etc/nginx/fastcgi_params;
			fastcgi_pass `+addr+`;
		}`)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct{ path, want string }{
		{"/hello/world", "path=/hello/world mount= prefix= pathinfo=/hello/world"},
		{"/dir/", "path=/dir/ mount=/dir prefix=/dir pathinfo=/"},
		{"/dir/page", "path=/dir/page mount=/dir prefix=/dir pathinfo=/page"},
	} {
		resp, err := client.Get(ws.URL() + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tt.want {
			t.Errorf("GET %s: %d %q, want 200 %q\n%s", tt.path, resp.StatusCode, b, tt.want, ws.ErrorLog())
		}
	}
}
