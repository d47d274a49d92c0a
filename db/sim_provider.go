package db

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"webstore/billing"
)

// Outcome is what a simulated provider answers for an account's payments
// (the scenario event set_payment_outcome).
type Outcome string

// Outcomes. OutcomeLostAnswer is not in the scenario contract: the provider
// takes the payment but its answer never arrives (the network, or this
// process dying after the provider acted), for the fault campaign.
const (
	OutcomeOK                Outcome = "ok"
	OutcomeDeclined          Outcome = "declined"
	OutcomeInsufficientFunds Outcome = "insufficient_funds"
	OutcomeTimeout           Outcome = "timeout"
	OutcomeLostAnswer        Outcome = "lost_answer"
)

// Valid reports whether o is an outcome a scenario may set.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeOK, OutcomeDeclined, OutcomeInsufficientFunds, OutcomeTimeout:
		return true
	}
	return false
}

// ErrNoAnswer is a simulated provider's silence: the outcome is unknown.
var ErrNoAnswer = errors.New("simulated provider: no answer (timeout)")

// SimPayment is a payment the simulated provider took.
type SimPayment struct {
	Ref       string
	Key       string
	ChargeID  int64
	AccountID string
	Amount    billing.Money
}

// SimProvider is the simulator's payment provider. It answers each
// account's payments as it was told (ok unless told otherwise) and, like a
// real provider, keeps a ledger of the payments it took by idempotency key:
// asked again under a key it has paid, it answers with that payment and
// takes nothing more.
type SimProvider struct {
	mu      sync.Mutex
	outcome map[string]Outcome
	taken   map[string]SimPayment
	order   []string
}

// NewSimProvider returns a provider that pays everything until told
// otherwise.
func NewSimProvider() *SimProvider {
	return &SimProvider{outcome: map[string]Outcome{}, taken: map[string]SimPayment{}}
}

// SetOutcome sets what the provider answers for the account's payments from
// now on.
func (p *SimProvider) SetOutcome(accountID string, o Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcome[accountID] = o
}

// Outcome is what the provider answers for the account now.
func (p *SimProvider) Outcome(accountID string) Outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o, ok := p.outcome[accountID]; ok {
		return o
	}
	return OutcomeOK
}

// Taken lists the payments taken, in the order they were taken.
func (p *SimProvider) Taken() []SimPayment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]SimPayment, 0, len(p.order))
	for _, k := range p.order {
		out = append(out, p.taken[k])
	}
	return out
}

// Pay implements billing.Gateway.
func (p *SimProvider) Pay(ctx context.Context, pay billing.Payment) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prior, ok := p.taken[pay.Key]; ok {
		return prior.Ref, nil
	}
	take := func() string {
		ref := fmt.Sprintf("sim-%d", len(p.order)+1)
		p.taken[pay.Key] = SimPayment{Ref: ref, Key: pay.Key, ChargeID: pay.ChargeID, AccountID: pay.AccountID, Amount: pay.Amount}
		p.order = append(p.order, pay.Key)
		return ref
	}
	switch p.outcome[pay.AccountID] {
	case OutcomeDeclined:
		return "", &billing.DeclineError{Failure: billing.FailDeclined, Reason: "發卡銀行拒絕了這筆付款(模擬)。"}
	case OutcomeInsufficientFunds:
		return "", &billing.DeclineError{Failure: billing.FailInsufficientFunds, Reason: "卡片額度不足(模擬)。"}
	case OutcomeTimeout:
		return "", ErrNoAnswer
	case OutcomeLostAnswer:
		take()
		return "", ErrNoAnswer
	}
	return take(), nil
}
