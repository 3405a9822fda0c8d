package filtertest

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestComposeGivesExactlyTheChosenAbilities(t *testing.T) {
	full := recorderWriter{NewRecorder()}
	under := NewRecorder()
	wrapper := &lintWriter{l: NewLint(nil), r: Get("/"), w: under}
	for ab := range AllAbilities + 1 {
		if got := AbilitiesOf(compose(full, ab)); got != ab {
			t.Errorf("compose(%v) has %v", ab, got)
		}
		w := composeUnwrap(wrapper, ab)
		if got := AbilitiesOf(w); got != ab {
			t.Errorf("composeUnwrap(%v) has %v", ab, got)
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok || u.Unwrap() != under {
			t.Errorf("composeUnwrap(%v) does not unwrap to the wrapped writer", ab)
		}
		if _, ok := compose(full, ab).(interface{ Unwrap() http.ResponseWriter }); ok {
			t.Errorf("compose(%v) has Unwrap", ab)
		}
	}
}

func TestComposeGenIsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "compose_gen.go")
	cmd := exec.Command(gobin, "run", "gen_compose.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_compose.go: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, err := os.ReadFile("compose_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("compose_gen.go is stale: run go generate")
	}
}
