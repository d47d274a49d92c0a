package views

import (
	"webstore/billing"
)

// 情境模擬: the scenario simulator page and a scenario's outcome.

// SimulateView is the scenario simulator page.
type SimulateView struct {
	Input  string
	Output *SimOutput
	Err    string
	// Samples are the public scenario files, name → JSON, for the picker.
	Samples [][2]string
}

// SimOutput is a simulated scenario's outcome, event by event.
type SimOutput struct {
	Name       string
	Passed     bool
	Mismatches int // expectations that did not hold
	Results    []SimResult
	Accounts   []SimAccount
	// AccountMismatches are the final-state expectations that did not hold.
	AccountMismatches []string
	// Catalog names the plans (a scenario runs on the app's catalog).
	Catalog billing.Catalog
}

// SimResult is one event's outcome.
type SimResult struct {
	At, Do, Account string
	OK              bool
	Error, Message  string
	Charges         []SimCharge
	Mismatch        []string
}

// SimCharge is a charge an event made, its lines in whole NT$ as the
// scenario's JSON has them.
type SimCharge struct {
	Account, Kind, FromPlan, Plan              string
	Amount, Offset, Forfeited, Net, Tax, Total int64
	Code                                       string
	Status                                     billing.ChargeStatus
	Failure                                    string
}

// SimAccount is an account's state after the last event.
type SimAccount struct {
	ID, Plan, Scheduled string
	Quota               int
	Code, CodeStatus    string // "" for none
}
