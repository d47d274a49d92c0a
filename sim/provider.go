package sim

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

// Payment is a payment the simulated provider took.
type Payment struct {
	Ref       string
	Key       string
	ChargeID  int64
	AccountID string
	Amount    billing.Money
}

// Provider is the simulator's payment provider. It answers each
// account's payments as it was told (ok unless told otherwise) and, like a
// real provider, keeps a ledger of the payments it took by idempotency key:
// asked again under a key it has paid, it answers with that payment and
// takes nothing more.
type Provider struct {
	mu      sync.Mutex
	outcome map[string]Outcome
	taken   map[string]Payment
	order   []string
	// refunds made, by key, in refundOrder.
	refunds     map[string]Refund
	refundOrder []string
}

// NewProvider returns a provider that pays everything until told
// otherwise.
func NewProvider() *Provider {
	return &Provider{outcome: map[string]Outcome{}, taken: map[string]Payment{}}
}

// SetOutcome sets what the provider answers for the account's payments from
// now on.
func (p *Provider) SetOutcome(accountID string, o Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcome[accountID] = o
}

// Outcome is what the provider answers for the account now.
func (p *Provider) Outcome(accountID string) Outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o, ok := p.outcome[accountID]; ok {
		return o
	}
	return OutcomeOK
}

// Taken lists the payments taken, in the order they were taken.
func (p *Provider) Taken() []Payment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Payment, 0, len(p.order))
	for _, k := range p.order {
		out = append(out, p.taken[k])
	}
	return out
}

// Pay implements billing.Gateway.
func (p *Provider) Pay(ctx context.Context, pay billing.Payment) (string, error) {
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
		p.taken[pay.Key] = Payment{Ref: ref, Key: pay.Key, ChargeID: pay.ChargeID, AccountID: pay.AccountID, Amount: pay.Amount}
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

// Refund is a refund the simulated provider made.
type Refund struct {
	Ref        string
	Key        string
	PaymentRef string
	RefundID   int64
	ChargeID   int64
	Amount     billing.Money
}

// Refunds lists the refunds made, in the order they were made.
func (p *Provider) Refunds() []Refund {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Refund, 0, len(p.refundOrder))
	for _, k := range p.refundOrder {
		out = append(out, p.refunds[k])
	}
	return out
}

// Refund implements billing.Refunder as a provider that keeps refund keys
// does: a key it has refunded under answers with that refund. It refuses a
// refund of a payment it did not take, of one refunded in full already
// (billing.RefundAlreadyRefunded), or beyond what is left of it; otherwise
// it answers as told for the account, like Pay.
func (p *Provider) Refund(ctx context.Context, r billing.RefundPayment) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prior, ok := p.refunds[r.Key]; ok {
		return prior.Ref, nil
	}
	var paid, refunded billing.Money
	found := false
	for _, t := range p.taken {
		if t.Ref == r.PaymentRef {
			paid, found = t.Amount, true
		}
	}
	for _, rf := range p.refunds {
		if rf.PaymentRef == r.PaymentRef {
			refunded += rf.Amount
		}
	}
	switch {
	case !found:
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "找不到這筆付款(模擬)。"}
	case refunded >= paid:
		return "", &billing.DeclineError{Failure: billing.RefundAlreadyRefunded, Reason: "這筆付款已全額退款(模擬)。"}
	case refunded+r.Amount > paid:
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "退款金額超過可退款金額(模擬)。"}
	}
	refund := func() string {
		if p.refunds == nil {
			p.refunds = map[string]Refund{}
		}
		ref := fmt.Sprintf("sim-re-%d", len(p.refundOrder)+1)
		p.refunds[r.Key] = Refund{Ref: ref, Key: r.Key, PaymentRef: r.PaymentRef, RefundID: r.RefundID, ChargeID: r.ChargeID, Amount: r.Amount}
		p.refundOrder = append(p.refundOrder, r.Key)
		return ref
	}
	switch p.outcome[r.AccountID] {
	case OutcomeDeclined, OutcomeInsufficientFunds:
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "發卡銀行拒絕了這筆退款(模擬)。"}
	case OutcomeTimeout:
		return "", ErrNoAnswer
	case OutcomeLostAnswer:
		refund()
		return "", ErrNoAnswer
	}
	return refund(), nil
}
