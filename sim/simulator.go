// Package sim is the scenario simulator (../shared/spec/SCENARIOS.md,
// contract version 2): it parses a scenario, replays it against the real
// store and reports each event's outcome, with a simulated payment provider
// that answers as each account was told.
//
// sim is a client of the store: it drives db.Store through its exported
// methods, as the console does. The one thing it does with the database
// directly is keep a scenario apart from every other: it makes, empties and
// drops the schemas the scenarios run in (db.Throwaway, resetStatement).
// That is the harness around the store, not store logic.
package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/db"
)

// simClock is the simulation's clock, moved to each event's instant.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Simulator runs scenarios with the real service code, each alone in a
// schema of the database at databaseURL: migrated once, then emptied and
// reused. A scenario takes a schema no other scenario is using, and before
// it runs every table the scenario could have written is truncated and
// every sequence restarted, so it starts exactly as on a freshly migrated
// schema; only the tables the migrations fill (plans, usage tiers, the
// reference version, the migration log) are kept, and no scenario event
// writes them. Migrating a schema costs about ten times what emptying one
// does, which is why they are reused.
//
// A Simulator is safe for concurrent use: concurrent scenarios get schemas
// of their own. Close drops the schemas; nothing else outlives it (a
// process killed before Close leaves its sim_* schemas behind).
type Simulator struct {
	url string

	mu     sync.Mutex
	idle   []*simSchema
	closed bool
}

// maxIdleSimSchemas is how many emptied schemas a Simulator keeps for the
// next scenarios; a schema returned beyond that is dropped.
const maxIdleSimSchemas = 4

// simSchema is one schema and the store over it. The store's clock and
// payment provider are the running scenario's.
type simSchema struct {
	d     *sqlx.DB
	drop  func()
	store *db.Store
	clock *simClock
	reset string // empties the schema
	used  bool   // a scenario ran here since the last reset
}

// New returns a Simulator over the database at databaseURL. It connects
// when the first scenario runs.
func New(databaseURL string) *Simulator { return &Simulator{url: databaseURL} }

// Simulate runs a scenario alone in an emptied schema.
func (m *Simulator) Simulate(ctx context.Context, sc Scenario) (Output, error) {
	sch, err := m.take(ctx)
	if err != nil {
		return Output{}, err
	}
	prov := NewProvider()
	sch.store.Payments = prov
	sch.used = true
	out, err := simulate(ctx, sch.store, sc, sch.clock, prov)
	m.put(sch)
	return out, err
}

// Close drops every schema the Simulator holds. A scenario still running
// drops its schema when it ends.
func (m *Simulator) Close() error {
	m.mu.Lock()
	idle := m.idle
	m.idle, m.closed = nil, true
	m.mu.Unlock()
	for _, sch := range idle {
		sch.drop()
	}
	return nil
}

// take returns an emptied schema for one scenario: an idle one, or a new
// one when none is idle.
func (m *Simulator) take(ctx context.Context) (*simSchema, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("simulator closed")
	}
	var sch *simSchema
	if n := len(m.idle); n > 0 {
		sch, m.idle = m.idle[n-1], m.idle[:n-1]
	}
	m.mu.Unlock()
	if sch == nil {
		return newSimSchema(ctx, m.url)
	}
	if sch.used {
		if _, err := sch.d.ExecContext(ctx, sch.reset); err != nil {
			sch.drop()
			return nil, fmt.Errorf("empty the simulation schema: %w", err)
		}
		sch.used = false
	}
	return sch, nil
}

// put gives a schema back for the next scenario, which empties it first.
func (m *Simulator) put(sch *simSchema) {
	m.mu.Lock()
	keep := !m.closed && len(m.idle) < maxIdleSimSchemas
	if keep {
		m.idle = append(m.idle, sch)
	}
	m.mu.Unlock()
	if !keep {
		sch.drop()
	}
}

// simKeptTables are filled by the migrations and written by no scenario
// event: a reset keeps them.
var simKeptTables = []string{"plans", "usage_tiers", "reference_version", "overview_global_slots", "schema_migrations"}

func newSimSchema(ctx context.Context, databaseURL string) (*simSchema, error) {
	d, drop, err := db.Throwaway(ctx, databaseURL, "sim")
	if err != nil {
		return nil, err
	}
	reset, err := resetStatement(ctx, d, simKeptTables)
	if err != nil {
		drop()
		return nil, err
	}
	clock := &simClock{}
	return &simSchema{d: d, drop: drop, store: db.New(d, clock, nil), clock: clock, reset: reset}, nil
}

// resetStatement empties every table of d's schema but those kept and
// restarts every sequence but those the kept tables own, so the schema
// reads as freshly migrated. It is one transaction. The tables are emptied
// by one DELETE statement (its foreign keys are checked at its end, when
// every table is empty, so their order does not matter): unlike TRUNCATE
// it makes no new files and leaves the pool's cached plans alone, about
// three times cheaper here. The append-only trails refuse a DELETE with a
// row trigger; the reset switches those triggers off for its own
// transaction, whose lock keeps every other session from seeing them off.
// Emptying campaigns bumps the reference version (migration 012), and
// emptying usage_refreshes the overviews' global version (migration 020,
// whose sequence the kept overview_global_slots owns (022), so it is never
// restarted), so the store's cached reference data and overviews are read
// again.
//
// It reads the schema's catalog and writes no row of its own meaning, so it
// is the simulator's harness, over the *sqlx.DB, not a store method: a
// production store never empties itself.
func resetStatement(ctx context.Context, d *sqlx.DB, keep []string) (string, error) {
	var tables []string
	if err := d.SelectContext(ctx, &tables, `SELECT quote_ident(relname) FROM pg_class
		WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND NOT relname = ANY($1)
		ORDER BY relname`, pq.StringArray(keep)); err != nil {
		return "", err
	}
	if len(tables) == 0 {
		return "", errors.New("simulation schema: no tables to empty")
	}
	var guards []struct {
		Table   string `db:"tbl"`
		Trigger string `db:"trigger"`
	}
	// Row triggers BEFORE DELETE (tgtype bits: row 1, before 2, delete 8).
	if err := d.SelectContext(ctx, &guards, `SELECT quote_ident(c.relname) AS tbl, quote_ident(g.tgname) AS trigger
		FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND NOT g.tgisinternal AND g.tgtype & 11 = 11
		AND NOT c.relname = ANY($1) ORDER BY 1, 2`, pq.StringArray(keep)); err != nil {
		return "", err
	}
	var seqs []string
	if err := d.SelectContext(ctx, &seqs, `SELECT quote_ident(c.relname) FROM pg_class c
		WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace
		AND NOT EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid
			WHERE dep.objid = c.oid AND dep.deptype IN ('a', 'i') AND t.relname = ANY($1))
		ORDER BY c.relname`, pq.StringArray(keep)); err != nil {
		return "", err
	}
	stmts := []string{"BEGIN"}
	for _, g := range guards {
		stmts = append(stmts, "ALTER TABLE "+g.Table+" DISABLE TRIGGER "+g.Trigger)
	}
	deletes := make([]string, len(tables))
	for i, t := range tables {
		deletes[i] = fmt.Sprintf("d%d AS (DELETE FROM %s)", i, t)
	}
	stmts = append(stmts, "WITH "+strings.Join(deletes, ", ")+" SELECT")
	for _, g := range guards {
		stmts = append(stmts, "ALTER TABLE "+g.Table+" ENABLE TRIGGER "+g.Trigger)
	}
	if len(seqs) > 0 {
		stmts = append(stmts, "SELECT setval(seqrelid, seqstart, false) FROM pg_sequence WHERE seqrelid = ANY('{"+
			strings.Join(seqs, ",")+"}'::regclass[])")
	}
	return strings.Join(append(stmts, "COMMIT"), "; "), nil
}
