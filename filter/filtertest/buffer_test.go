package filtertest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b filtertest.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
	b.Reset()
	if b.String() != "" {
		t.Errorf("after Reset: %q", b.String())
	}
}
