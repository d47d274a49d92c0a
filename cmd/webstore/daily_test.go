package main

import (
	"context"
	"io"
	"testing"
	"time"

	"webstore/db"
	"webstore/db/dbtest"
)

// stillClock stands at one instant.
type stillClock time.Time

func (c stillClock) Now() time.Time { return time.Time(c) }

// The daily jobs delete ended sessions and keep live ones. The clock stands
// a year back, so every 02:00 JST it computes has passed and the jobs run at
// once.
func TestDailyJobsPurgeEndedSessions(t *testing.T) {
	d, _ := dbtest.New(t)
	ctx := context.Background()
	start := time.Now().AddDate(-1, 0, 0)
	st := db.New(d, stillClock(start), nil)
	if _, err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	var alice int64
	if err := d.Get(&alice, `SELECT id FROM users WHERE login='alice'`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSession(ctx, alice); err != nil {
		t.Fatal(err)
	}
	later := db.New(d, stillClock(start.Add(db.SessionLifetime+time.Minute)), nil)
	live, err := later.CreateSession(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}

	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { dailyJobs(jctx, later, io.Discard); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	n := -1
	for time.Now().Before(deadline) {
		if err := d.Get(&n, `SELECT count(*) FROM sessions`); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if n != 1 {
		t.Fatalf("%d sessions after the daily jobs, want 1 (the ended one deleted)", n)
	}
	if _, err := later.FindSession(ctx, live); err != nil {
		t.Errorf("the live session: %v", err)
	}
}
