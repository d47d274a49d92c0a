package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"webstore/billing"
	"webstore/db"
)

// UsageBenchOptions sizes BenchUsage.
type UsageBenchOptions struct {
	Events   int       // messages to record in all
	Batch    int       // messages per batch (one row, one transaction)
	Workers  int       // concurrent recorders, each on its own high account
	At       time.Time // the instant the batches are sent and recorded at
	Accounts int       // accounts to spread the batches over (default Workers)
}

// UsageBenchSummary is BenchUsage's measurement.
type UsageBenchSummary struct {
	Events        int64   `json:"events"`
	Batches       int64   `json:"batches"`
	BatchSize     int     `json:"batch"`
	Workers       int     `json:"workers"`
	Accounts      int     `json:"accounts"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_second"`
	BatchesPerSec float64 `json:"batches_per_second"`
}

// BenchUsage measures RecordUsage: it records opt.Events messages in batches
// of opt.Batch on high accounts, with opt.Workers concurrent recorders,
// against a throwaway schema of the database at databaseURL (dropped
// afterwards, so nothing outlives the run), and reports events (messages)
// per second.
func BenchUsage(ctx context.Context, databaseURL string, opt UsageBenchOptions) (UsageBenchSummary, error) {
	if opt.Batch <= 0 || opt.Events <= 0 || opt.Batch > billing.MaxBatchMessages {
		return UsageBenchSummary{}, billing.Errorf(billing.EInvalid, "events and batch must be positive (batch at most %d)", billing.MaxBatchMessages)
	}
	opt.Workers = max(opt.Workers, 1)
	if opt.Accounts <= 0 {
		opt.Accounts = opt.Workers
	}
	d, drop, err := db.Throwaway(ctx, databaseURL, "usagebench")
	if err != nil {
		return UsageBenchSummary{}, err
	}
	defer drop()
	s := db.New(d, billing.ClockFunc(func() time.Time { return opt.At }), nil)
	for i := range opt.Accounts {
		if err := s.CreateAccount(ctx, "bench", db.NewAccount{ID: fmt.Sprintf("bench%04d", i), Region: "TW", Plan: billing.High}); err != nil {
			return UsageBenchSummary{}, err
		}
	}
	return benchRecord(ctx, s, opt)
}

// benchRecord records the batches and times them.
func benchRecord(ctx context.Context, s *db.Store, opt UsageBenchOptions) (UsageBenchSummary, error) {
	batches := (opt.Events + opt.Batch - 1) / opt.Batch
	sum := UsageBenchSummary{BatchSize: opt.Batch, Workers: opt.Workers, Accounts: opt.Accounts}
	var next, done, events atomic.Int64
	var firstErr error
	var once sync.Once
	started := time.Now()
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(batches) {
					return
				}
				n := min(opt.Batch, opt.Events-int(i)*opt.Batch)
				_, err := s.RecordUsage(ctx, "bench", db.UsageBatch{BatchID: fmt.Sprintf("bench-%d", i),
					AccountID: fmt.Sprintf("bench%04d", int(i)%opt.Accounts), Kind: billing.MsgPush, Messages: n, SentAt: opt.At})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				events.Add(int64(n))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	sum.Seconds = time.Since(started).Seconds()
	sum.Events = events.Load()
	sum.Batches = done.Load()
	if sum.Seconds > 0 {
		sum.EventsPerSec = float64(sum.Events) / sum.Seconds
		sum.BatchesPerSec = float64(sum.Batches) / sum.Seconds
	}
	return sum, firstErr
}
