package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws a one-line progress bar on a terminal and nothing
// otherwise (the caller prints one summary line at the end).
type progress struct {
	w            io.Writer
	tty          bool
	total, n     int
	start, drawn time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, tty: isTerminal(w), total: total, start: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) add(n int) {
	p.n += n
	if !p.tty || time.Since(p.drawn) < 200*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(p.n) / max(el, 1e-9)
	eta := "?"
	if rate > 0 && p.total > 0 {
		eta = (time.Duration(float64(p.total-p.n)/rate) * time.Second).Round(time.Second).String()
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.n * width / p.total
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d events  %.0f/s  ETA %s ", bar, p.n, p.total, rate, eta)
}

func (p *progress) done() {
	if p.tty && !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
