package peers

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

// node is an XML element, decoded generically.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) all(local, class string) []node {
	var out []node
	for _, c := range n.Nodes {
		if c.XMLName.Local == local && (class == "" || c.attr("class") == class) {
			out = append(out, c)
		}
		out = append(out, c.all(local, class)...)
	}
	return out
}

func decodeSVG(t *testing.T, s string) node {
	t.Helper()
	var root node
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		t.Fatalf("not valid XML: %v\n%s", err, s)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v, want svg in the SVG namespace", root.XMLName)
	}
	return root
}

// labelNumber reads the number in a label: "1,234" or "92 %".
func labelNumber(t *testing.T, s string) float64 {
	t.Helper()
	s = strings.TrimSuffix(strings.ReplaceAll(s, ",", ""), " %")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("label %q: %v", s, err)
	}
	return v
}

func TestChartSVG(t *testing.T) {
	rs := sampleResults()
	rs[3].Serial.NsOp = 12345.4 // a number that needs a thousands separator
	var b strings.Builder
	if err := NewChart(rs, "2 CPUs <test> & co").WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	root := decodeSVG(t, b.String())

	panels := root.all("g", "panel")
	if len(panels) != 3 {
		t.Fatalf("%d panels, want 3", len(panels))
	}
	want := map[string][]float64{"panel-rps": {}, "panel-ns": {}, "panel-allocs": {}}
	for _, r := range rs {
		want["panel-rps"] = append(want["panel-rps"], 100*r.RPS/rs[0].RPS)
		want["panel-ns"] = append(want["panel-ns"], r.Serial.NsOp)
		want["panel-allocs"] = append(want["panel-allocs"], r.Serial.AllocsOp)
	}
	for _, p := range panels {
		id := p.attr("id")
		vals, ok := want[id]
		if !ok {
			t.Errorf("unexpected panel %q", id)
			continue
		}
		bars := p.all("rect", "bar")
		labels := p.all("text", "value")
		if len(bars) != len(rs) || len(labels) != len(rs) {
			t.Errorf("%s: %d bars and %d labels, want one per variant (%d)", id, len(bars), len(labels), len(rs))
			continue
		}
		var prevH, prevV float64
		for i, l := range labels {
			got := labelNumber(t, l.Text)
			if got != float64(int64(vals[i]+0.5)) {
				t.Errorf("%s bar %d: label %q, want %v rounded", id, i, l.Text, vals[i])
			}
			h, err := strconv.ParseFloat(bars[i].attr("height"), 64)
			if err != nil || h < 0 {
				t.Errorf("%s bar %d: height %q", id, i, bars[i].attr("height"))
			}
			// Taller bars for larger values.
			if i > 0 && (vals[i] > prevV) != (h > prevH) && vals[i] != prevV {
				t.Errorf("%s: bar %d (%v, %vpx) against bar %d (%v, %vpx)", id, i, vals[i], h, i-1, prevV, prevH)
			}
			prevH, prevV = h, vals[i]
			tip := bars[i].all("title", "")
			if len(tip) != 1 || !strings.Contains(tip[0].Text, rs[i].Title()) || !strings.Contains(tip[0].Text, l.Text) {
				t.Errorf("%s bar %d: tooltip %v", id, i, tip)
			}
		}
	}
	if !strings.Contains(b.String(), "12,345") {
		t.Error("the ns/op label 12,345 is missing")
	}
	if !strings.Contains(b.String(), "2 CPUs &lt;test&gt; &amp; co") {
		t.Error("the caption is not escaped")
	}
	for _, bad := range []string{"<script", "href=", "@import", "url("} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the SVG holds %q", bad)
		}
	}
}

func TestChartSVGRejectsMismatch(t *testing.T) {
	c := NewChart(sampleResults(), "")
	c.Panels[1].Values = c.Panels[1].Values[:2]
	if err := c.WriteSVG(&strings.Builder{}); err == nil {
		t.Error("a panel with fewer values than series: no error")
	}
}
