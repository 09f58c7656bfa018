package console

import (
	"fmt"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// The overview's charts: Window split into bins, each bin a bar of stacked segments, drawn as inline SVG by the
// template (no script, no image request).
const (
	binWidth    = 10 * time.Minute
	chartWidth  = 360
	chartHeight = 64
)

// chart is what the template draws.
type chart struct {
	Title  string
	Width  int
	Height int
	Bars   []bar
	// Legend lists the series with their totals over the window.
	Legend []legendEntry
	// Max is the tallest bar's value, the top of the scale.
	Max int
}

type bar struct {
	X, W float64
	// Title is the bar's tooltip: its time and counts.
	Title    string
	Segments []segment
}

type segment struct {
	X, Y, W, H float64
	Class      string
}

type legendEntry struct {
	Name  string
	Class string
	Total int
}

// series names one stacked series and reads its count from a minute.
type series struct {
	name  string
	class string
	value func(MinuteCounts) int
}

// newChart bins minutes (oldest first, one per minute) and stacks the series in each bin.
func newChart(title string, minutes []MinuteCounts, ss ...series) chart {
	per := int(binWidth / time.Minute)
	n := (len(minutes) + per - 1) / per
	c := chart{Title: title, Width: chartWidth, Height: chartHeight}
	sums := make([][]int, n)
	totals := make([]int, len(ss))
	for i := range n {
		sums[i] = make([]int, len(ss))
		for _, m := range minutes[i*per : min((i+1)*per, len(minutes))] {
			for j, s := range ss {
				v := s.value(m)
				sums[i][j] += v
				totals[j] += v
			}
		}
		stack := 0
		for _, v := range sums[i] {
			stack += v
		}
		c.Max = max(c.Max, stack)
	}
	for j, s := range ss {
		c.Legend = append(c.Legend, legendEntry{Name: s.name, Class: s.class, Total: totals[j]})
	}
	if n == 0 {
		return c
	}
	w := float64(chartWidth) / float64(n)
	scale := 0.0
	if c.Max > 0 {
		scale = float64(chartHeight) / float64(c.Max)
	}
	for i := range n {
		start := minutes[i*per].Start
		b := bar{X: round(float64(i) * w), W: round(w - 1), Title: start.Format("15:04") + " UTC"}
		y := float64(chartHeight)
		for j, s := range ss {
			v := sums[i][j]
			b.Title += fmt.Sprintf(", %s %d", s.name, v)
			if v == 0 {
				continue
			}
			h := float64(v) * scale
			y -= h
			b.Segments = append(b.Segments, segment{X: b.X, Y: round(y), W: b.W, H: round(h), Class: s.class})
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func round(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// overviewCharts returns the overview's charts: evidence collected, verdicts by kind, and actions and dead letters.
func overviewCharts(minutes []MinuteCounts) []chart {
	verdict := func(k connector.Kind) func(MinuteCounts) int {
		return func(m MinuteCounts) int { return m.Verdicts[k] }
	}
	return []chart{
		newChart("Evidence collected", minutes,
			series{"evidence", "s-evidence", func(m MinuteCounts) int { return m.Collected }}),
		newChart("Verdicts by kind", minutes,
			series{"malicious", "s-malicious", verdict(connector.Malicious)},
			series{"suspicious", "s-suspicious", verdict(connector.Suspicious)},
			series{"clean", "s-clean", verdict(connector.Clean)},
			series{"unknown", "s-unknown", verdict(connector.Unknown)}),
		newChart("Actions and dead letters", minutes,
			series{"actions", "s-actions", func(m MinuteCounts) int { return m.Actions }},
			series{"dead letters", "s-failed", func(m MinuteCounts) int { return m.Failures }}),
	}
}
