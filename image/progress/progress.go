// Package progress shows image transfer progress (registry layer
// downloads, engine saves) as bars on a terminal. New returns bars drawn
// with mpb when the output is a terminal, and a reporter that prints nothing
// otherwise, so that CI logs and redirected stderr stay clean.
package progress

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/vigilsec/vigil/image"
)

// Reporter is an image.Progress that must be waited for before the program
// writes its report, so the bars finish drawing first.
type Reporter interface {
	image.Progress
	// Wait finishes every bar (ones never reported done are aborted) and
	// returns when drawing has stopped.
	Wait()
}

// New returns bars on out when it is a terminal and quiet is false, and a
// silent reporter otherwise.
func New(ctx context.Context, out *os.File, quiet bool) Reporter {
	if quiet || out == nil || !term.IsTerminal(int(out.Fd())) {
		return Nop{}
	}
	return NewBars(ctx, out, false)
}

// Nop reports nothing.
type Nop struct{}

// Start does nothing.
func (Nop) Start(string, string, int64) {}

// Advance does nothing.
func (Nop) Advance(string, int64) {}

// Done does nothing.
func (Nop) Done(string, error) {}

// Wait does nothing.
func (Nop) Wait() {}

// Bars draws one bar per blob.
type Bars struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*mpb.Bar
}

// NewBars draws bars on w. autoRefresh forces periodic redraws even when w
// is not a terminal (for tests); on a terminal mpb refreshes by itself.
func NewBars(ctx context.Context, w io.Writer, autoRefresh bool) *Bars {
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40)}
	if autoRefresh {
		opts = append(opts, mpb.WithAutoRefresh())
	}
	return &Bars{p: mpb.NewWithContext(ctx, opts...), bars: map[string]*mpb.Bar{}}
}

// Start adds a bar for id. A total of 0 or less means unknown.
func (b *Bars) Start(id, label string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.bars[id]; ok {
		return
	}
	if total < 0 {
		total = 0
	}
	b.bars[id] = b.p.AddBar(total,
		mpb.PrependDecorators(
			decor.Name(label, decor.WCSyncSpaceR),
			decor.OnAbort(decor.OnComplete(decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpace), "done"), "failed"),
		),
		mpb.AppendDecorators(decor.OnAbort(decor.OnComplete(decor.Percentage(decor.WC{W: 5}), ""), "")),
	)
}

func (b *Bars) bar(id string) *mpb.Bar {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bars[id]
}

// Advance moves id's bar by n bytes.
func (b *Bars) Advance(id string, n int64) {
	if bar := b.bar(id); bar != nil {
		bar.IncrInt64(n)
	}
}

// Done completes id's bar, or marks it failed when err is not nil.
func (b *Bars) Done(id string, err error) {
	bar := b.bar(id)
	if bar == nil {
		return
	}
	if err != nil {
		bar.Abort(false)
		return
	}
	bar.SetTotal(-1, true)
}

// Wait aborts bars never reported done and waits for drawing to end.
func (b *Bars) Wait() {
	b.mu.Lock()
	for _, bar := range b.bars {
		if !bar.Completed() && !bar.Aborted() {
			bar.Abort(false)
		}
	}
	b.mu.Unlock()
	b.p.Wait()
}
