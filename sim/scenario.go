package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"webstore/billing"
)

// The simulator's contract (../shared/spec/SCENARIOS.md, version 2): the
// scenario it reads, the result it writes, and how a scenario is checked.

// Scenario is the simulator's input (SCENARIOS.md): accounts, campaigns and a
// timeline of events with optional expectations.
type Scenario struct {
	Name      string     `json:"name"`
	Accounts  []Account  `json:"accounts"`
	Campaigns []Campaign `json:"campaigns"`
	Events    []Event    `json:"events"`
	// ExpectAccounts, optional, lists fields of the final accounts that
	// must hold (each listed field only).
	ExpectAccounts []map[string]json.RawMessage `json:"expect_accounts,omitempty"`
}

// Account is an account at the start of a scenario.
type Account struct {
	ID            string  `json:"id"`
	Region        string  `json:"region"`
	Plan          string  `json:"plan"`
	PaymentMethod *string `json:"payment_method"`
}

// Campaign is a campaign and the codes it issued.
type Campaign struct {
	ID         string   `json:"id"`
	FaceValue  int64    `json:"face_value"`
	ValidFrom  string   `json:"valid_from"`
	ValidUntil string   `json:"valid_until"`
	Codes      []string `json:"codes"`
}

// Event is one step of the timeline.
type Event struct {
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

// Charge is a charge as the simulator reports it.
type Charge struct {
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

// Result is one event's outcome.
type Result struct {
	At       string   `json:"at"`
	Do       string   `json:"do"`
	Account  string   `json:"account,omitempty"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Message  string   `json:"message,omitempty"`
	Charges  []Charge `json:"charges"`
	Mismatch []string `json:"mismatches,omitempty"`
}

// Final is an account's state after the last event.
type Final struct {
	ID            string  `json:"id"`
	Plan          string  `json:"plan"`
	ScheduledPlan *string `json:"scheduled_plan"`
	Quota         int     `json:"quota"`
	Code          *Code   `json:"code"`
}

// Code is an account's code in the final state.
type Code struct {
	Code   string `json:"code"`
	Status string `json:"status"`
}

// Output is the simulator's output.
type Output struct {
	Name     string   `json:"name"`
	Results  []Result `json:"results"`
	Accounts []Final  `json:"accounts"`
	Passed   bool     `json:"passed"`
	// AccountMismatches are the expect_accounts fields that did not hold.
	AccountMismatches []string `json:"account_mismatches,omitempty"`
}

// Mismatches lists every expectation that did not hold, one per line.
func (o Output) Mismatches() []string {
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

type expectation struct {
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
		case errors.As(err, &te) && te.Field == "":
			return sc, &InputError{Field: "(file)", Msg: fmt.Sprintf("want a JSON object (a scenario), got JSON %s", te.Value)}
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
	if dec.More() {
		return sc, &InputError{Field: "(file)", Msg: "more after the scenario object: one scenario per file"}
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
	codes := map[string]string{} // normalized code → where it first appears
	for i, c := range sc.Campaigns {
		f := fmt.Sprintf("campaigns[%d]", i)
		if c.ID == "" || camps[c.ID] {
			return sc, &InputError{f + ".id", "missing or duplicate"}
		}
		if !billing.ValidID(c.ID) {
			return sc, &InputError{f + ".id", fmt.Sprintf("want 1 to %d letters, digits, _ or -", billing.MaxIDLength)}
		}
		camps[c.ID] = true
		if c.FaceValue <= 0 || billing.Money(c.FaceValue) > billing.MaxTypedMoney {
			return sc, &InputError{f + ".face_value", fmt.Sprintf("want a positive amount in NT$, at most %d", int64(billing.MaxTypedMoney))}
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
			field := fmt.Sprintf("%s.codes[%d]", f, j)
			n := billing.NormalizeCode(code)
			if n == "" {
				return sc, &InputError{field, "empty code"}
			}
			// A code is one row of the ledger: twice is a mistake in the
			// file, not a conflict with something in progress.
			if first, ok := codes[n]; ok {
				return sc, &InputError{field, fmt.Sprintf("duplicate code %q (also %s)", code, first)}
			}
			codes[n] = field
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
			var x expectation
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
