package peers

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Chart is a bar chart in panels: each panel is one measure, with one bar
// per series (variant), each bar labelled with its value. WriteSVG draws
// it as a self-contained SVG (no script, no external font or image), which
// GitHub shows as an image.
type Chart struct {
	Title   string
	Caption string   // a line under the panels: machine and date
	Series  []Series // the variants, in bar order
	Panels  []Panel
}

// Series is one variant: a bar in each panel, in one color.
type Series struct {
	Name  string // short name under its bars
	Title string // name in the legend
	Color string // CSS color
}

// Panel is one measure.
type Panel struct {
	ID     string    // the group's id in the SVG
	Title  string    // "ns/op"
	Note   string    // "lower is better"
	Values []float64 // one per series; bar heights are proportional
	Labels []string  // one per series, printed above the bars
	Ref    float64   // when above 0, a dashed line at this value
	RefTag string    // what the reference line means, under the note
}

// Colors of the variants, in the order of Names.
var colors = map[string]string{
	Bare:    "#8a8f98",
	Full:    "#1a73e8",
	Chi:     "#e8710a",
	Negroni: "#8e44ad",
}

var shortNames = map[string]string{
	Bare:    "net/http",
	Full:    "wsapi",
	Chi:     "chi",
	Negroni: "negroni",
}

// NewChart returns the chart of rs: req/s as a percentage of bare
// net/http's, ns/op and allocs/op of one request.
func NewChart(rs []Result, caption string) Chart {
	c := Chart{
		Title:   "The same hello app behind each stack",
		Caption: caption,
	}
	bare, _ := find(rs, Bare)
	rps := Panel{ID: "rps", Title: "req/s, % of net/http alone", Note: "wrk on loopback, higher is better", Ref: 90, RefTag: "goal: 90 % of net/http alone"}
	ns := Panel{ID: "ns", Title: "ns/op, one request", Note: "go test -bench, lower is better"}
	allocs := Panel{ID: "allocs", Title: "allocs/op", Note: "go test -bench, lower is better"}
	for _, r := range rs {
		color, ok := colors[r.Name]
		if !ok {
			color = "#555555"
		}
		short, ok := shortNames[r.Name]
		if !ok {
			short = r.Name
		}
		c.Series = append(c.Series, Series{Name: short, Title: r.Title(), Color: color})
		pct := 0.0
		if bare.RPS > 0 {
			pct = 100 * r.RPS / bare.RPS
		}
		rps.Values = append(rps.Values, pct)
		rps.Labels = append(rps.Labels, fixed(pct, 0)+" %")
		ns.Values = append(ns.Values, r.Serial.NsOp)
		ns.Labels = append(ns.Labels, Thousands(r.Serial.NsOp))
		allocs.Values = append(allocs.Values, r.Serial.AllocsOp)
		allocs.Labels = append(allocs.Labels, Thousands(r.Serial.AllocsOp))
	}
	if chiR, ok := find(rs, Chi); ok {
		ns.Ref, ns.RefTag = chiR.Serial.NsOp/3, "goal: a third of chi's"
		allocs.Ref, allocs.RefTag = chiR.Serial.AllocsOp/3, "goal: a third of chi's"
	}
	c.Panels = []Panel{rps, ns, allocs}
	return c
}

// Layout of the chart, in pixels.
const (
	svgMargin   = 20
	panelWidth  = 290
	panelGap    = 20
	barWidth    = 46
	plotTop     = 136 // top of the tallest bar's room
	plotHeight  = 170
	chartHeight = 380
)

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func num(v float64) string { return fixed(v, 1) }

// WriteSVG writes the chart as SVG. Each bar is a rect of class "bar" in
// its panel's group (class "panel"), with a title saying its series and
// value; each value label is a text of class "value".
func (c Chart) WriteSVG(w io.Writer) error {
	for _, p := range c.Panels {
		if len(p.Values) != len(c.Series) || len(p.Labels) != len(c.Series) {
			return fmt.Errorf("peers: panel %q has %d values and %d labels for %d series", p.ID, len(p.Values), len(p.Labels), len(c.Series))
		}
	}
	width := 2*svgMargin + len(c.Panels)*panelWidth + max(len(c.Panels)-1, 0)*panelGap
	base := plotTop + plotHeight
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" role="img" aria-label="%s">`+"\n",
		width, chartHeight, width, chartHeight, esc(c.Title))
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(c.Title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", width, chartHeight)
	fmt.Fprintf(&b, `<text x="%d" y="30" font-size="18" font-weight="bold" fill="#202124">%s</text>`+"\n", svgMargin, esc(c.Title))

	// Legend.
	x := svgMargin
	b.WriteString(`<g class="legend">` + "\n")
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%d" y="46" width="12" height="12" fill="%s"/>`, x, s.Color)
		fmt.Fprintf(&b, `<text x="%d" y="56.5" font-size="12" fill="#202124">%s</text>`+"\n", x+17, esc(s.Title))
		x += 17 + 7*len(s.Title) + 22
	}
	b.WriteString("</g>\n")

	for i, p := range c.Panels {
		x0 := svgMargin + i*(panelWidth+panelGap)
		top := 0.0
		for _, v := range p.Values {
			top = max(top, v)
		}
		top = max(top, p.Ref)
		if top <= 0 {
			top = 1
		}
		top *= 1.12 // room for the value labels
		scale := float64(plotHeight) / top

		fmt.Fprintf(&b, `<g class="panel" id="panel-%s">`+"\n", esc(p.ID))
		fmt.Fprintf(&b, `<text x="%d" y="92" font-size="14" font-weight="bold" fill="#202124">%s</text>`+"\n", x0, esc(p.Title))
		fmt.Fprintf(&b, `<text x="%d" y="109" font-size="11" fill="#5f6368">%s</text>`+"\n", x0, esc(p.Note))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa0a6" stroke-width="1"/>`+"\n", x0, base, x0+panelWidth, base)

		if p.Ref > 0 { // under the bars and their labels
			y := float64(base) - p.Ref*scale
			fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#5f6368" stroke-width="1" stroke-dasharray="4 3"/>`+"\n",
				x0, num(y), x0+panelWidth, num(y))
			if p.RefTag != "" { // the key, under the note
				fmt.Fprintf(&b, `<line x1="%d" y1="120" x2="%d" y2="120" stroke="#5f6368" stroke-width="1" stroke-dasharray="4 3"/>`+"\n", x0, x0+18)
				fmt.Fprintf(&b, `<text x="%d" y="124" font-size="11" fill="#5f6368">%s</text>`+"\n", x0+24, esc(p.RefTag))
			}
		}

		n := len(c.Series)
		gap := float64(panelWidth-n*barWidth) / float64(n+1)
		for j, s := range c.Series {
			v := max(p.Values[j], 0)
			h := v * scale
			if v > 0 && h < 1 {
				h = 1
			}
			bx := float64(x0) + gap + float64(j)*(barWidth+gap)
			cx := bx + barWidth/2
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%d" height="%s" fill="%s"><title>%s: %s</title></rect>`+"\n",
				num(bx), num(float64(base)-h), barWidth, num(h), s.Color, esc(s.Title), esc(p.Labels[j]))
			// A white box behind the label keeps a reference line from
			// crossing it.
			lw := float64(7*len(p.Labels[j]) + 6)
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="15" fill="#ffffff"/>`+"\n",
				num(cx-lw/2), num(float64(base)-h-17), num(lw))
			fmt.Fprintf(&b, `<text class="value" x="%s" y="%s" font-size="12" text-anchor="middle" fill="#202124">%s</text>`+"\n",
				num(cx), num(float64(base)-h-5), esc(p.Labels[j]))
			fmt.Fprintf(&b, `<text class="name" x="%s" y="%d" font-size="12" text-anchor="middle" fill="#3c4043">%s</text>`+"\n",
				num(cx), base+17, esc(s.Name))
		}
		b.WriteString("</g>\n")
	}
	if c.Caption != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#5f6368">%s</text>`+"\n", svgMargin, chartHeight-16, esc(c.Caption))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
