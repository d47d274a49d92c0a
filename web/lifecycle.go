package web

import (
	"context"
	"sync"
)

// jobs are the work a request starts and does not wait for (code
// generation, a renewal run). They run on the server's own context, not the
// request's, so a closed tab does not stop them; Shutdown cancels that
// context and waits for them.
type jobs struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closing bool
}

func newJobs() *jobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &jobs{ctx: ctx, cancel: cancel}
}

// background runs fn detached from the request that asked for it. fn must
// return soon after its context is cancelled, leaving its work at a point
// it can be resumed or re-run from (the store's jobs commit in batches and
// mark what they did). A job asked for while the server is shutting down
// runs at once on the cancelled context, so it records that it stopped
// instead of being left half-started.
func (s *Server) background(fn func(ctx context.Context)) {
	j := s.jobs
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		fn(j.ctx)
		return
	}
	j.wg.Add(1)
	j.mu.Unlock()
	go func() {
		defer j.wg.Done()
		fn(j.ctx)
	}()
}

// Shutdown stops the server's background jobs: their context is cancelled,
// so each stops at its next safe boundary, and Shutdown waits for them
// until ctx ends (then it returns ctx's error). It drops the simulator's
// schemas. It does not stop the HTTP
// listener: call http.Server.Shutdown first, so no request starts a job
// meanwhile.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.sim != nil {
		defer s.sim.Close()
	}
	j := s.jobs
	j.mu.Lock()
	j.closing = true
	j.mu.Unlock()
	j.cancel()
	done := make(chan struct{})
	go func() {
		j.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
