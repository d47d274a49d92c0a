package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Scenario is the simulator's input (SCENARIOS.md): accounts, campaigns and a
// timeline of events with optional expectations.
type Scenario struct {
	Name      string        `json:"name"`
	Accounts  []SimAccount  `json:"accounts"`
	Campaigns []SimCampaign `json:"campaigns"`
	Events    []SimEvent    `json:"events"`
	// ExpectAccounts, optional, lists fields of the final accounts that
	// must hold (each listed field only).
	ExpectAccounts []map[string]json.RawMessage `json:"expect_accounts,omitempty"`
}

// SimAccount is an account at the start of a scenario.
type SimAccount struct {
	ID            string  `json:"id"`
	Region        string  `json:"region"`
	Plan          string  `json:"plan"`
	PaymentMethod *string `json:"payment_method"`
}

// SimCampaign is a campaign and the codes it issued.
type SimCampaign struct {
	ID         string   `json:"id"`
	FaceValue  int64    `json:"face_value"`
	ValidFrom  string   `json:"valid_from"`
	ValidUntil string   `json:"valid_until"`
	Codes      []string `json:"codes"`
}

// SimEvent is one step of the timeline.
type SimEvent struct {
	At            string          `json:"at"`
	Do            string          `json:"do"`
	Account       string          `json:"account,omitempty"`
	Code          string          `json:"code,omitempty"`
	Plan          string          `json:"plan,omitempty"`
	Action        string          `json:"action,omitempty"`
	PaymentMethod *string         `json:"payment_method,omitempty"`
	Outcome       string          `json:"outcome,omitempty"` // set_payment_outcome (version 2)
	Month         string          `json:"month,omitempty"`   // renew: YYYY-MM, the month containing at if empty (version 2)
	Expect        json.RawMessage `json:"expect,omitempty"`
}

// SimCharge is a charge as the simulator reports it.
type SimCharge struct {
	Account   string  `json:"account"`
	Kind      string  `json:"kind"`
	FromPlan  string  `json:"from_plan"`
	Plan      string  `json:"plan"`
	Amount    int64   `json:"amount"`
	Offset    int64   `json:"offset"`
	Forfeited int64   `json:"forfeited"`
	Net       int64   `json:"net"`
	Tax       int64   `json:"tax"`
	Total     int64   `json:"total"`
	Code      *string `json:"code"`
	Status    string  `json:"status,omitempty"`
	Failure   string  `json:"failure,omitempty"` // why a failed charge was refused, or a void one voided
}

// SimResult is one event's outcome.
type SimResult struct {
	At       string      `json:"at"`
	Do       string      `json:"do"`
	Account  string      `json:"account,omitempty"`
	OK       bool        `json:"ok"`
	Error    string      `json:"error,omitempty"`
	Message  string      `json:"message,omitempty"`
	Charges  []SimCharge `json:"charges"`
	Mismatch []string    `json:"mismatches,omitempty"`
}

// SimFinal is an account's state after the last event.
type SimFinal struct {
	ID            string   `json:"id"`
	Plan          string   `json:"plan"`
	ScheduledPlan *string  `json:"scheduled_plan"`
	Quota         int      `json:"quota"`
	Code          *SimCode `json:"code"`
}

// SimCode is an account's code in the final state.
type SimCode struct {
	Code   string `json:"code"`
	Status string `json:"status"`
}

// SimOutput is the simulator's output.
type SimOutput struct {
	Name     string      `json:"name"`
	Results  []SimResult `json:"results"`
	Accounts []SimFinal  `json:"accounts"`
	Passed   bool        `json:"passed"`
	// AccountMismatches are the expect_accounts fields that did not hold.
	AccountMismatches []string `json:"account_mismatches,omitempty"`
}

// Mismatches lists every expectation that did not hold, one per line.
func (o SimOutput) Mismatches() []string {
	var out []string
	for i, r := range o.Results {
		for _, m := range r.Mismatch {
			out = append(out, fmt.Sprintf("events[%d] (%s %s): %s", i, r.Do, r.At, m))
		}
	}
	return append(out, o.AccountMismatches...)
}

// InputError is a malformed scenario: Field names where (e.g. events[2].at).
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

type simExpect struct {
	OK      *bool                         `json:"ok"`
	Error   *string                       `json:"error"`
	Charges *[]map[string]json.RawMessage `json:"charges"`
}

var eventKinds = map[string]bool{"register_code": true, "upgrade": true, "downgrade": true, "cancel_downgrade": true,
	"set_payment_method": true, "renew": true, "preview": true,
	"set_payment_outcome": true, "collect": true, "retry": true, "remove_payment_method": true}

// accountFree are the events that name no account.
var accountFree = map[string]bool{"renew": true, "collect": true}

// ParseScenario reads and checks a scenario. Every problem is an
// *InputError naming the field.
func ParseScenario(data []byte) (Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return sc, &InputError{Field: te.Field, Msg: fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)}
		case errors.As(err, &se):
			return sc, &InputError{Field: "(file)", Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return sc, &InputError{Field: strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), Msg: "unknown field"}
		default:
			return sc, &InputError{Field: "(file)", Msg: err.Error()}
		}
	}
	ids := map[string]bool{}
	for i, a := range sc.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if a.ID == "" || ids[a.ID] {
			return sc, &InputError{f + ".id", "missing or duplicate"}
		}
		ids[a.ID] = true
		if len(a.Region) != 2 {
			return sc, &InputError{f + ".region", "want an ISO country code such as TW"}
		}
		switch billing.PlanID(a.Plan) {
		case billing.Light, billing.Medium, billing.High:
		default:
			return sc, &InputError{f + ".plan", "want light, medium or high"}
		}
		if a.PaymentMethod != nil && !billing.PaymentKind(*a.PaymentMethod).Valid() {
			return sc, &InputError{f + ".payment_method", "want credit_card, line_pay, bank_transfer or null"}
		}
	}
	camps := map[string]bool{}
	for i, c := range sc.Campaigns {
		f := fmt.Sprintf("campaigns[%d]", i)
		if c.ID == "" || camps[c.ID] {
			return sc, &InputError{f + ".id", "missing or duplicate"}
		}
		camps[c.ID] = true
		if c.FaceValue <= 0 {
			return sc, &InputError{f + ".face_value", "want a positive amount in NT$"}
		}
		from, err := parseInstant(c.ValidFrom)
		if err != nil {
			return sc, &InputError{f + ".valid_from", err.Error()}
		}
		until, err := parseInstant(c.ValidUntil)
		if err != nil {
			return sc, &InputError{f + ".valid_until", err.Error()}
		}
		if !until.After(from) {
			return sc, &InputError{f + ".valid_until", "must be after valid_from"}
		}
		for j, code := range c.Codes {
			if billing.NormalizeCode(code) == "" {
				return sc, &InputError{fmt.Sprintf("%s.codes[%d]", f, j), "empty code"}
			}
		}
	}
	var prev time.Time
	for i, e := range sc.Events {
		f := fmt.Sprintf("events[%d]", i)
		at, err := parseInstant(e.At)
		if err != nil {
			return sc, &InputError{f + ".at", err.Error()}
		}
		if at.Before(prev) {
			return sc, &InputError{f + ".at", "goes backwards in time"}
		}
		prev = at
		if !eventKinds[e.Do] {
			return sc, &InputError{f + ".do", "want register_code, upgrade, downgrade, cancel_downgrade, set_payment_method, renew, preview, " +
				"set_payment_outcome, collect, retry or remove_payment_method"}
		}
		if !accountFree[e.Do] && !ids[e.Account] {
			return sc, &InputError{f + ".account", fmt.Sprintf("no account %q in accounts", e.Account)}
		}
		switch e.Do {
		case "register_code":
			if e.Code == "" {
				return sc, &InputError{f + ".code", "required"}
			}
		case "upgrade", "downgrade":
			if e.Plan == "" {
				return sc, &InputError{f + ".plan", "required"}
			}
		case "preview":
			if e.Action != "upgrade" && e.Action != "renew" {
				return sc, &InputError{f + ".action", "want upgrade or renew"}
			}
			if e.Action == "upgrade" && e.Plan == "" {
				return sc, &InputError{f + ".plan", "required for an upgrade preview"}
			}
		case "set_payment_method":
			if e.PaymentMethod != nil && !billing.PaymentKind(*e.PaymentMethod).Valid() {
				return sc, &InputError{f + ".payment_method", "want credit_card, line_pay, bank_transfer or null"}
			}
		case "set_payment_outcome":
			if !Outcome(e.Outcome).Valid() {
				return sc, &InputError{f + ".outcome", "want ok, declined, insufficient_funds or timeout"}
			}
		case "renew":
			if e.Month != "" {
				if _, err := billing.ParseMonth(e.Month); err != nil {
					return sc, &InputError{f + ".month", "want YYYY-MM, e.g. 2024-07"}
				}
			}
		}
		if e.Outcome != "" && e.Do != "set_payment_outcome" {
			return sc, &InputError{f + ".outcome", "only for set_payment_outcome"}
		}
		if e.Month != "" && e.Do != "renew" {
			return sc, &InputError{f + ".month", "only for renew"}
		}
		if len(e.Expect) > 0 {
			var x simExpect
			d := json.NewDecoder(bytes.NewReader(e.Expect))
			d.DisallowUnknownFields()
			if err := d.Decode(&x); err != nil {
				return sc, &InputError{f + ".expect", err.Error()}
			}
		}
	}
	for i, x := range sc.ExpectAccounts {
		var id string
		if err := json.Unmarshal(x["id"], &id); err != nil || !ids[id] {
			return sc, &InputError{fmt.Sprintf("expect_accounts[%d].id", i), "want the id of an account in accounts"}
		}
	}
	return sc, nil
}

func parseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("want RFC 3339 with an offset, e.g. 2024-06-11T10:00:00+08:00 (got %q)", s)
	}
	return t, nil
}

// simClock is the simulation's clock, moved to each event's instant.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Simulate runs a scenario with the real service code against a throwaway
// schema of the database at databaseURL, dropped afterwards, so nothing
// outlives the run.
func Simulate(ctx context.Context, databaseURL string, sc Scenario) (SimOutput, error) {
	d, drop, err := Throwaway(ctx, databaseURL, "sim")
	if err != nil {
		return SimOutput{}, err
	}
	defer drop()
	clock := &simClock{}
	prov := NewSimProvider()
	s := New(d, clock, prov)
	return s.simulate(ctx, sc, clock, prov)
}

// Throwaway makes a fresh, migrated schema named prefix_<random> in the
// database at databaseURL and returns a small pool scoped to it; drop closes
// the pool and drops the schema, so nothing outlives the caller.
func Throwaway(ctx context.Context, databaseURL, prefix string) (d *sqlx.DB, drop func(), err error) {
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	admin, err := Open(ctx, databaseURL)
	if err != nil {
		return nil, nil, err
	}
	admin.SetMaxOpenConns(1)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return nil, nil, err
	}
	drop = func() {
		if d != nil {
			d.Close()
		}
		admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}
	scoped, err := withSearchPath(databaseURL, schema)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if d, err = Open(ctx, scoped); err != nil {
		drop()
		return nil, nil, err
	}
	d.SetMaxOpenConns(8)
	d.SetMaxIdleConns(8)
	if _, err := Migrate(ctx, d); err != nil {
		drop()
		return nil, nil, err
	}
	return d, drop, nil
}

// withSearchPath adds a search_path run-time parameter to a lib/pq
// connection string (URL or key=value form).
func withSearchPath(dsn, schema string) (string, error) { return withParam(dsn, "search_path", schema) }

// withParam sets a connection parameter (a PostgreSQL run-time setting) on
// a URL or key=value connection string.
func withParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " " + key + "=" + value, nil
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
