package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// svgElements parses doc as XML and counts its elements by name; it fails
// the test on any XML error.
func svgElements(t *testing.T, doc string) (root string, count map[string]int, attrs map[string][]xml.Attr) {
	t.Helper()
	count = map[string]int{}
	attrs = map[string][]xml.Attr{}
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Space + " " + se.Name.Local
			}
			count[se.Name.Local]++
			attrs[se.Name.Local] = se.Attr
		}
	}
	return root, count, attrs
}

func TestRSSChart(t *testing.T) {
	var samples []Sample
	for i := range 61 {
		samples = append(samples, Sample{At: time.Duration(i) * 5 * time.Second, RSS: int64(40+i%3) << 20, WorkerRSS: 12 << 20})
	}
	windows := []Window{
		{Name: "redis stopped #1", Start: 30 * time.Second, End: 41 * time.Second, Grace: 3 * time.Second},
		{Name: "worker killed <#1> & co", Start: 70 * time.Second, End: 70 * time.Second, Grace: 3 * time.Second},
	}
	doc := RSSChart(samples, windows, 5*time.Minute, `RSS "of" <showcase> & more`)
	root, count, attrs := svgElements(t, doc)
	if root != "http://www.w3.org/2000/svg svg" {
		t.Errorf("root element = %q, want svg in the SVG namespace", root)
	}
	if count["polyline"] != 2 {
		t.Errorf("%d polylines, want 2 (showcase, workers)", count["polyline"])
	}
	for _, a := range attrs["polyline"] {
		if a.Name.Local == "points" {
			if n := len(strings.Fields(a.Value)); n != len(samples) {
				t.Errorf("the line has %d points, want %d", n, len(samples))
			}
		}
	}
	// Background, two windows, two legend swatches.
	if count["rect"] != 5 {
		t.Errorf("%d rects, want 5", count["rect"])
	}
	if !strings.Contains(doc, "&lt;#1&gt; &amp; co") || !strings.Contains(doc, "&lt;showcase&gt;") {
		t.Error("names are not escaped")
	}
	// Every point is inside the view box.
	for _, a := range attrs["polyline"] {
		if a.Name.Local != "points" {
			continue
		}
		for _, p := range strings.Fields(a.Value) {
			var x, y float64
			if _, err := fmt.Sscanf(p, "%f,%f", &x, &y); err != nil || x < 0 || x > svgW || y < 0 || y > svgH {
				t.Errorf("point %q is outside the %dx%d view box", p, svgW, svgH)
			}
		}
	}
}

func TestRSSChartEmpty(t *testing.T) {
	_, count, _ := svgElements(t, RSSChart(nil, nil, 0, "empty"))
	if count["svg"] != 1 || count["polyline"] != 0 {
		t.Errorf("empty chart elements = %v", count)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.2: 2, 3: 5, 7: 10, 44: 50, 101: 200} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
