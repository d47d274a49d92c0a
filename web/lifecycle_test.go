package web

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Shutdown cancels the jobs' context and waits until they return; a job
// that ignores the cancellation is abandoned when Shutdown's context ends;
// a job asked for during shutdown runs at once on the cancelled context.
func TestShutdownStopsBackgroundJobs(t *testing.T) {
	s := New(Config{}, nil)
	started, stopped := make(chan struct{}), make(chan struct{})
	s.background(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // the job's last batch
		close(stopped)
	})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Shutdown returned before the job stopped")
	}

	ran := false
	s.background(func(ctx context.Context) { ran = ctx.Err() != nil })
	if !ran {
		t.Error("a job asked for after Shutdown did not run at once on a cancelled context")
	}

	s2 := New(Config{}, nil)
	release := make(chan struct{})
	defer close(release)
	s2.background(func(ctx context.Context) { <-release })
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := s2.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck job: %v, want DeadlineExceeded", err)
	}
}
