package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
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
	store *Store
	clock *simClock
	reset string // empties the schema
	used  bool   // a scenario ran here since the last reset
}

// NewSimulator returns a Simulator over the database at databaseURL. It
// connects when the first scenario runs.
func NewSimulator(databaseURL string) *Simulator { return &Simulator{url: databaseURL} }

// Simulate runs a scenario alone in an emptied schema.
func (m *Simulator) Simulate(ctx context.Context, sc Scenario) (SimOutput, error) {
	sch, err := m.take(ctx)
	if err != nil {
		return SimOutput{}, err
	}
	prov := NewSimProvider()
	sch.store.Payments = prov
	sch.used = true
	out, err := sch.store.simulate(ctx, sc, sch.clock, prov)
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
var simKeptTables = []string{"plans", "usage_tiers", "reference_version", "overview_global_version", "schema_migrations"}

func newSimSchema(ctx context.Context, databaseURL string) (*simSchema, error) {
	d, drop, err := Throwaway(ctx, databaseURL, "sim")
	if err != nil {
		return nil, err
	}
	reset, err := resetStatement(ctx, d, simKeptTables)
	if err != nil {
		drop()
		return nil, err
	}
	clock := &simClock{}
	return &simSchema{d: d, drop: drop, store: New(d, clock, nil), clock: clock, reset: reset}, nil
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
// whose sequence the kept overview_global_version owns, so it is never
// restarted), so the store's cached reference data and overviews are read
// again.
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

func (s *Store) simulate(ctx context.Context, sc Scenario, clock *simClock, prov *SimProvider) (SimOutput, error) {
	out := SimOutput{Name: sc.Name, Passed: true, Results: []SimResult{}, Accounts: []SimFinal{}}
	start := time.Now()
	if len(sc.Events) > 0 {
		start, _ = parseInstant(sc.Events[0].At)
	}
	clock.Set(start)
	const actor = Actor("sim")
	for _, a := range sc.Accounts {
		if err := s.CreateAccount(ctx, actor, NewAccount{ID: a.ID, Region: a.Region, Plan: billing.PlanID(a.Plan), PaidMonth: billing.MonthOf(start)}); err != nil {
			return out, fmt.Errorf("account %s: %w", a.ID, err)
		}
		if a.PaymentMethod != nil {
			if _, err := s.AddPaymentMethod(ctx, actor, simMethod(a.ID, *a.PaymentMethod), true); err != nil {
				return out, err
			}
		}
	}
	for _, c := range sc.Campaigns {
		from, _ := parseInstant(c.ValidFrom)
		until, _ := parseInstant(c.ValidUntil)
		if _, err := s.CreateCampaign(ctx, actor, billing.Campaign{ID: c.ID, FaceValue: billing.Money(c.FaceValue), ValidFrom: from, ValidUntil: until}); err != nil {
			return out, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		if len(c.Codes) > 0 {
			if err := s.AddCodes(ctx, actor, c.ID, c.Codes); err != nil {
				return out, fmt.Errorf("campaign %s codes: %w", c.ID, err)
			}
		}
	}
	for _, e := range sc.Events {
		at, _ := parseInstant(e.At)
		clock.Set(at)
		res := SimResult{At: e.At, Do: e.Do, Account: e.Account, Charges: []SimCharge{}}
		charges, err := s.simEvent(ctx, e, at, prov)
		if err != nil {
			code := billing.ErrorCode(err)
			if code == "" {
				return out, fmt.Errorf("event %s at %s: %w", e.Do, e.At, err)
			}
			res.Error, res.Message = string(code), billing.CodeMessage(code, "zh-TW")
		} else {
			res.OK = true
		}
		for _, c := range charges {
			res.Charges = append(res.Charges, simCharge(c))
		}
		res.Mismatch = compareExpect(e.Expect, res)
		if len(res.Mismatch) > 0 {
			out.Passed = false
		}
		out.Results = append(out.Results, res)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return out, err
	}
	for _, a := range sc.Accounts {
		f, err := s.simFinal(ctx, cat, a.ID)
		if err != nil {
			return out, err
		}
		out.Accounts = append(out.Accounts, f)
	}
	out.AccountMismatches = compareAccounts(sc.ExpectAccounts, out.Accounts)
	if len(out.AccountMismatches) > 0 {
		out.Passed = false
	}
	return out, nil
}

// compareAccounts checks the listed fields of each expected final account.
func compareAccounts(want []map[string]json.RawMessage, got []SimFinal) []string {
	var out []string
	for i, w := range want {
		var id string
		json.Unmarshal(w["id"], &id)
		for _, g := range got {
			if g.ID == id {
				for _, m := range compareFields(w, g) {
					out = append(out, fmt.Sprintf("expect_accounts[%d] (%s).%s", i, id, m))
				}
			}
		}
	}
	return out
}

func simMethod(accountID, kind string) PaymentMethod {
	return PaymentMethod{AccountID: accountID, Kind: billing.PaymentKind(kind), Token: "sim", Label: "simulated " + kind}
}

func (s *Store) simEvent(ctx context.Context, e SimEvent, at time.Time, prov *SimProvider) ([]Charge, error) {
	const actor = Actor("sim")
	switch e.Do {
	case "register_code":
		_, err := s.RegisterCode(ctx, actor, e.Account, e.Code)
		return nil, err
	case "upgrade":
		ch, err := s.Upgrade(ctx, actor, UpgradeRequest{AccountID: e.Account, Plan: billing.PlanID(e.Plan)})
		if ch.ID == 0 {
			return nil, err
		}
		if ch.Status == billing.StatusPending && billing.ErrorCode(err) == billing.EPaymentPending {
			err = nil // no clear answer: the upgrade is made, its payment pending
		}
		return []Charge{ch}, err
	case "downgrade":
		_, err := s.ScheduleDowngrade(ctx, actor, e.Account, billing.PlanID(e.Plan))
		return nil, err
	case "cancel_downgrade":
		_, err := s.CancelDowngrade(ctx, actor, e.Account)
		return nil, err
	case "set_payment_method":
		if e.PaymentMethod == nil {
			pms, err := s.PaymentMethods(ctx, e.Account)
			if err != nil {
				return nil, err
			}
			for _, pm := range pms {
				if err := s.RemovePaymentMethod(ctx, actor, e.Account, pm.ID); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}
		_, err := s.AddPaymentMethod(ctx, actor, simMethod(e.Account, *e.PaymentMethod), true)
		return nil, err
	case "remove_payment_method":
		pms, err := s.PaymentMethods(ctx, e.Account)
		if err != nil {
			return nil, err
		}
		if len(pms) == 0 || !pms[0].IsMain {
			return nil, billing.Errorf(billing.ENoPaymentMethod, "")
		}
		return nil, s.RemovePaymentMethod(ctx, actor, e.Account, pms[0].ID)
	case "set_payment_outcome":
		prov.SetOutcome(e.Account, Outcome(e.Outcome))
		return nil, nil
	case "renew":
		m := billing.MonthOf(at)
		if e.Month != "" {
			m, _ = billing.ParseMonth(e.Month)
		}
		var before int64
		if err := s.DB.GetContext(ctx, &before, `SELECT coalesce(max(id), 0) FROM charges`); err != nil {
			return nil, err
		}
		if err := s.ClaimRenewalRun(ctx, actor, m); err != nil {
			return nil, err
		}
		if _, err := s.RunRenewal(ctx, actor, m, true); err != nil {
			return nil, err
		}
		var cs []Charge
		err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges WHERE id > $1 AND kind = 'renewal' ORDER BY id`, before)
		return cs, err
	case "collect":
		return s.changedBy(ctx, func() error {
			_, err := s.Collect(ctx, actor, 0)
			return err
		})
	case "retry":
		ch, err := s.RetryLatest(ctx, actor, e.Account)
		if ch.ID == 0 || billing.ErrorCode(err) == billing.ENothingToRetry {
			return nil, err
		}
		if ch.Status == billing.StatusPending && billing.ErrorCode(err) == billing.EPaymentPending {
			err = nil
		}
		return []Charge{ch}, err
	case "preview":
		kind := billing.KindUpgrade
		if e.Action == "renew" {
			kind = billing.KindRenewal
		}
		q, err := s.QuoteAt(ctx, e.Account, kind, billing.PlanID(e.Plan), at)
		if err != nil || !q.Chargeable() {
			return nil, err
		}
		display, err := s.codeDisplay(ctx, q.Code)
		if err != nil {
			return nil, err
		}
		return []Charge{{AccountID: q.AccountID, Kind: q.Kind, FromPlan: q.FromPlan, Plan: q.Plan, Amount: q.Amount, Offset: q.Offset,
			Forfeited: q.Forfeited, Net: q.Net, Tax: q.Tax, Total: q.Total, Code: q.Code, CodeDisplay: display, Status: "preview"}}, nil
	}
	return nil, billing.Errorf(billing.EInvalid, "unknown event %q", e.Do)
}

// changedBy runs fn and returns the charges whose status it changed,
// oldest first.
func (s *Store) changedBy(ctx context.Context, fn func() error) ([]Charge, error) {
	var before []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
	}
	if err := s.DB.SelectContext(ctx, &before, `SELECT id, status FROM charges`); err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		return nil, err
	}
	ids, statuses := make([]int64, len(before)), make([]string, len(before))
	for i, b := range before {
		ids[i], statuses[i] = b.ID, b.Status
	}
	var cs []Charge
	err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges
		WHERE NOT EXISTS (SELECT 1 FROM unnest($1::bigint[], $2::text[]) AS b(id, status) WHERE b.id = charges.id AND b.status = charges.status)
		ORDER BY id`, pq.Int64Array(ids), pq.StringArray(statuses))
	return cs, err
}

func (s *Store) codeDisplay(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	var d string
	err := s.DB.GetContext(ctx, &d, `SELECT display FROM promo_codes WHERE code=$1`, code)
	return d, err
}

func simCharge(c Charge) SimCharge {
	sc := SimCharge{Account: c.AccountID, Kind: string(c.Kind), FromPlan: string(c.FromPlan), Plan: string(c.Plan),
		Amount: int64(c.Amount), Offset: int64(c.Offset), Forfeited: int64(c.Forfeited), Net: int64(c.Net), Tax: int64(c.Tax),
		Total: int64(c.Total), Status: string(c.Status), Failure: c.Failure}
	if c.Code != "" {
		d := c.CodeDisplay
		if d == "" {
			d = c.Code
		}
		sc.Code = &d
	}
	return sc
}

func (s *Store) simFinal(ctx context.Context, cat billing.Catalog, id string) (SimFinal, error) {
	now := s.Clock.Now()
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return SimFinal{}, err
	}
	defer tx.Rollback()
	row, err := loadAccount(ctx, tx, id, billing.MonthOf(now), false)
	if err != nil {
		return SimFinal{}, err
	}
	a := row.billing(billing.MonthOf(now)).Settle(now)
	f := SimFinal{ID: id, Plan: string(a.Plan)}
	if p, err := cat.Plan(a.Plan); err == nil {
		f.Quota = p.FreeMessages
	}
	if a.ScheduledPlan != "" {
		sp := string(a.ScheduledPlan)
		f.ScheduledPlan = &sp
	}
	rc, ok, err := s.AccountCode(ctx, id)
	if err != nil {
		return f, err
	}
	if ok {
		f.Code = &SimCode{Code: rc.Display, Status: string(rc.Status)}
	}
	return f, nil
}

// compareExpect checks the listed fields of expect against the result.
func compareExpect(raw json.RawMessage, res SimResult) []string {
	if len(raw) == 0 {
		return nil
	}
	var x simExpect
	if err := json.Unmarshal(raw, &x); err != nil {
		return []string{"expect: " + err.Error()}
	}
	var out []string
	if x.OK != nil && *x.OK != res.OK {
		out = append(out, fmt.Sprintf("ok: got %v, want %v (error %q)", res.OK, *x.OK, res.Error))
	}
	if x.Error != nil && *x.Error != res.Error {
		out = append(out, fmt.Sprintf("error: got %q, want %q", res.Error, *x.Error))
	}
	if x.Charges != nil {
		want := *x.Charges
		if len(want) != len(res.Charges) {
			out = append(out, fmt.Sprintf("charges: got %d, want %d", len(res.Charges), len(want)))
		}
		for i := 0; i < len(want) && i < len(res.Charges); i++ {
			for _, m := range compareFields(want[i], res.Charges[i]) {
				out = append(out, fmt.Sprintf("charges[%d].%s", i, m))
			}
		}
	}
	return out
}

// compareFields compares each field listed in want with the same field of
// got's JSON form.
func compareFields(want map[string]json.RawMessage, got any) []string {
	gotJSON, _ := json.Marshal(got)
	var g map[string]json.RawMessage
	json.Unmarshal(gotJSON, &g)
	var out []string
	for field, w := range want {
		gv, ok := g[field]
		if !ok {
			out = append(out, field+": no such field")
			continue
		}
		var a, b any
		json.Unmarshal(gv, &a)
		json.Unmarshal(w, &b)
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", field, gv, w))
		}
	}
	sort.Strings(out)
	return out
}
