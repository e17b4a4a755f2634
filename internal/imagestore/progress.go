package imagestore

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is told about each blob of a transfer, by short id.
type Progress interface {
	Start(id string, size int64)
	Update(id string, done int64)
	// Done ends a blob: status is "done", "already here" or "failed".
	Done(id string, size int64, status string)
}

type nopProgress struct{}

func (nopProgress) Start(string, int64)        {}
func (nopProgress) Update(string, int64)       {}
func (nopProgress) Done(string, int64, string) {}

// NewProgress returns a Progress that writes to w: with tty, a bar per
// layer with bytes and speed, redrawn in place (at most 10 times a
// second); without, one line per layer when it ends.
func NewProgress(w io.Writer, tty bool) Progress {
	return &textProgress{w: w, tty: tty, rows: map[string]*row{}}
}

type row struct {
	size, done int64
	start      time.Time
	status     string
}

type textProgress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	order []string
	rows  map[string]*row
	drawn int // lines drawn last time (tty)
	last  time.Time
}

func (p *textProgress) Start(id string, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows[id] = &row{size: size, start: time.Now()}
	p.order = append(p.order, id)
	p.draw(true)
}

func (p *textProgress) Update(id string, done int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.rows[id]; r != nil {
		r.done = done
	}
	p.draw(false)
}

func (p *textProgress) Done(id string, size int64, status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rows[id]
	if r == nil {
		r = &row{size: size, start: time.Now()}
		p.rows[id] = r
		p.order = append(p.order, id)
	}
	r.status = status
	if size > 0 {
		r.done = size
	}
	if !p.tty {
		fmt.Fprintln(p.w, p.line(id, r))
		return
	}
	p.draw(true)
}

// draw redraws the bars (tty only).
func (p *textProgress) draw(force bool) {
	if !p.tty || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, id := range p.order {
		b.WriteString("\x1b[2K" + p.line(id, p.rows[id]) + "\n")
	}
	p.drawn = len(p.order)
	io.WriteString(p.w, b.String())
}

func (p *textProgress) line(id string, r *row) string {
	elapsed := time.Since(r.start).Seconds()
	speed := ""
	if elapsed > 0 && r.done > 0 && r.status != "already here" {
		speed = fmt.Sprintf(" %s/s", HumanSize(int64(float64(r.done)/elapsed)))
	}
	switch r.status {
	case "":
		const width = 30
		filled := 0
		if r.size > 0 {
			filled = int(int64(width) * r.done / r.size)
		}
		return fmt.Sprintf("%s [%s%s] %s/%s%s", id, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), HumanSize(r.done), HumanSize(r.size), speed)
	case "already here":
		return fmt.Sprintf("%s already here (%s)", id, HumanSize(r.size))
	default:
		return fmt.Sprintf("%s %s %s in %.1fs%s", id, r.status, HumanSize(r.done), elapsed, speed)
	}
}

// HumanSize formats a byte count as docker does (1.2MB): what pull
// progress and `rtd images` show.
func HumanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%cB", float64(n)/float64(div), "kMGTPE"[exp])
}
