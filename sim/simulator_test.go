package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webstore/db/dbtest"
	"webstore/sim"
)

// sharedScenarios reads the shared scenarios (testdata/scenarios).
func sharedScenarios(t testing.TB) ([]string, []sim.Scenario) {
	t.Helper()
	files, err := filepath.Glob("../testdata/scenarios/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata/scenarios (%v)", err)
	}
	var scs []sim.Scenario
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := sim.ParseScenario(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		scs = append(scs, sc)
	}
	return files, scs
}

func outputJSON(t testing.TB, out sim.Output) string {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every shared scenario (copied from the spec into testdata/) passes, and
// reads the same whatever ran before it on the Simulator, or beside it:
// each runs alone on a schema emptied for it (the emptied schema itself is
// compared with a fresh one in TestSimulatorResetIsFresh).
func TestScenarios(t *testing.T) {
	_, url := dbtest.New(t)
	files, scs := sharedScenarios(t)
	if len(files) < 9 {
		t.Fatalf("want the 9 shared scenarios in testdata/scenarios, found %d", len(files))
	}
	ctx := context.Background()
	simulator := sim.New(url)
	defer simulator.Close()
	want := make([]string, len(scs))
	for i, sc := range scs {
		t.Run(filepath.Base(files[i]), func(t *testing.T) {
			out, err := simulator.Simulate(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Passed {
				t.Errorf("scenario failed:\n%s", strings.Join(out.Mismatches(), "\n"))
			}
			want[i] = outputJSON(t, out)
		})
	}
	// In reverse order: each scenario follows a different one on the same
	// schema.
	for i := len(scs) - 1; i >= 0; i-- {
		out, err := simulator.Simulate(ctx, scs[i])
		if err != nil {
			t.Fatalf("%s: %v", files[i], err)
		}
		if got := outputJSON(t, out); got != want[i] {
			t.Errorf("%s run again after another scenario:\n got %s\nwant %s", filepath.Base(files[i]), got, want[i])
		}
	}
	// Three at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i := range scs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := simulator.Simulate(ctx, scs[i])
			if err != nil {
				t.Errorf("concurrent %s: %v", files[i], err)
				return
			}
			if got := outputJSON(t, out); got != want[i] {
				t.Errorf("concurrent %s:\n got %s\nwant %s", filepath.Base(files[i]), got, want[i])
			}
		}()
	}
	wg.Wait()
}

// BenchmarkSimulator20 runs 20 scenarios (the shared ones, cycled) in one
// process, as `webstore simulate` with 20 files does: one Simulator, its
// schema migrated once and emptied before each scenario. In the same run it
// times the same 20 the way the simulator ran them before: a schema
// migrated and dropped per scenario. It reports both in seconds and their
// ratio (make bench-sim).
func BenchmarkSimulator20(b *testing.B) {
	_, url := dbtest.New(b)
	files, scs := sharedScenarios(b)
	ctx := context.Background()
	run := func(newSim bool) time.Duration {
		start := time.Now()
		var simulator *sim.Simulator
		if !newSim {
			simulator = sim.New(url)
		}
		for i := range 20 {
			s := simulator
			if newSim {
				s = sim.New(url)
			}
			out, err := s.Simulate(ctx, scs[i%len(scs)])
			if err != nil || !out.Passed {
				b.Fatalf("%s: passed %v, %v", files[i%len(scs)], out.Passed, err)
			}
			if newSim {
				s.Close()
			}
		}
		if simulator != nil {
			simulator.Close()
		}
		return time.Since(start)
	}
	var reused, perScenario time.Duration
	for b.Loop() {
		reused += run(false)
		perScenario += run(true)
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(reused.Seconds()/n, "s/20-reused")
	b.ReportMetric(perScenario.Seconds()/n, "s/20-schema-each")
	b.ReportMetric(float64(reused)/float64(perScenario), "reused/schema-each")
	fmt.Fprintf(os.Stderr, "simulator: 20 scenarios in one process %.2f s; a schema made and dropped per scenario %.2f s (same run); ratio %.2f\n",
		reused.Seconds()/n, perScenario.Seconds()/n, float64(reused)/float64(perScenario))
}
