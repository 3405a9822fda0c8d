package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// The chart's geometry, in SVG user units.
const (
	svgW, svgH             = 800, 320
	padL, padR, padT, padB = 64, 16, 36, 44
)

// RSSChart draws the showcase's RSS (and its workers') over time as a
// stand-alone SVG document, with the fault windows shaded.
func RSSChart(samples []Sample, windows []Window, d time.Duration, title string) string {
	var maxRSS int64 = 1 << 20
	for _, s := range samples {
		maxRSS = max(maxRSS, s.RSS, s.WorkerRSS)
	}
	if d <= 0 {
		d = time.Second
	}
	for _, s := range samples {
		d = max(d, s.At)
	}
	top := niceCeil(float64(maxRSS) * 1.1 / (1 << 20)) // MiB
	plotW, plotH := float64(svgW-padL-padR), float64(svgH-padT-padB)
	x := func(t time.Duration) float64 { return padL + plotW*float64(t)/float64(d) }
	y := func(b int64) float64 { return padT + plotH*(1-float64(b)/(1<<20)/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", svgW, svgH)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(title))
	// Fault windows.
	for _, w := range windows {
		color := "#f4a261"
		if strings.HasPrefix(w.Name, "worker") {
			color = "#9d8df1"
		}
		x0, x1 := x(w.Start), x(min(w.End+w.Grace, d))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.0f" fill="%s" fill-opacity="0.3"><title>%s</title></rect>`+"\n",
			x0, padT, math.Max(x1-x0, 1), plotH, color, html.EscapeString(w.Name))
	}
	// Grid and axes.
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		yy := padT + plotH*(1-float64(i)/4)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", padL, yy, svgW-padR, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s MiB</text>`+"\n", padL-6, yy+4, trimFloat(v))
	}
	step := tickStep(d)
	for t := time.Duration(0); t <= d; t += step {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", xx, svgH-padB, xx, svgH-padB+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xx, svgH-padB+18, t)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", padL, svgH-padB, svgW-padR, svgH-padB)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", padL, padT, padL, svgH-padB)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">time since the start of the load</text>`+"\n", padL+int(plotW)/2, svgH-6)
	// The lines.
	line := func(color string, v func(Sample) int64) {
		var pts []string
		for _, s := range samples {
			if v(s) > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.At), y(v(s))))
			}
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.Join(pts, " "))
		}
	}
	line("#1d4ed8", func(s Sample) int64 { return s.RSS })
	line("#059669", func(s Sample) int64 { return s.WorkerRSS })
	// Legend.
	lx := svgW - padR - 330
	fmt.Fprintf(&b, `<line x1="%d" y1="16" x2="%d" y2="16" stroke="#1d4ed8" stroke-width="2"/><text x="%d" y="20">showcase</text>`+"\n", lx, lx+20, lx+24)
	fmt.Fprintf(&b, `<line x1="%d" y1="16" x2="%d" y2="16" stroke="#059669" stroke-width="2"/><text x="%d" y="20">workers (sum)</text>`+"\n", lx+90, lx+110, lx+114)
	fmt.Fprintf(&b, `<rect x="%d" y="9" width="12" height="12" fill="#f4a261" fill-opacity="0.3"/><text x="%d" y="20">redis</text>`+"\n", lx+210, lx+226)
	fmt.Fprintf(&b, `<rect x="%d" y="9" width="12" height="12" fill="#9d8df1" fill-opacity="0.3"/><text x="%d" y="20">worker</text>`+"\n", lx+266, lx+282)
	b.WriteString("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// tickStep picks a time step that gives 5 to 10 ticks over d.
func tickStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
		15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute} {
		if d/s <= 10 {
			return s
		}
	}
	return d / 10
}

// trimFloat prints v without trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
