package db

import (
	"context"
	"database/sql"
	"time"

	"webstore/billing"
)

// PreviewRequest is a staff "what would this charge be" question.
type PreviewRequest struct {
	AccountID string
	// At is the instant of the action (and of registering Code, if given).
	At time.Time
	// Kind is KindUpgrade (to Plan, at At) or KindRenewal (the next renewal
	// after At, at the next month start).
	Kind billing.ChargeKind
	Plan billing.PlanID
	// Code, optional, is a code to register at At first (it need not be
	// registered yet).
	Code string
	// AssumePayment, optional, answers "what if they add a card / LINE
	// Pay first?": an account without a payment method is quoted as if
	// this kind (CreditCard or LinePay) were its main method, as it is once
	// the first one is added. An account with a method keeps its own.
	AssumePayment billing.PaymentKind
}

// Preview is the answer: the quote exactly as the purchase or renewal would
// make it, with what happened to the code on the way.
type Preview struct {
	Request PreviewRequest
	Quote   billing.Quote
	// QuoteErr is the purchase's refusal, if any (e.g. no payment method;
	// the quote's lines are still filled in when the rules can compute them).
	QuoteErr error
	// Registration is the refusal of registering Request.Code at At, nil
	// when it would be registered (or none was given).
	Registration error
	// Code is the code the quote considered (the one registered in the
	// preview, or the one the account already held), nil if none.
	Code     *billing.PromoCode
	Campaign billing.Campaign
	// Display is the code as issued.
	Display string
	// Assumed reports that the quote took Request.AssumePayment as the
	// account's method (it had none).
	Assumed bool
	// After an upgrade, Next is the renewal that would follow at the next
	// month start (the code spent if the upgrade used it); nil otherwise.
	Next *billing.Quote
}

// PreviewCharge answers a staff preview through the same path as the real
// charge: it reads the account as quoteIn does for a purchase, checks the
// code with billing.CheckRegistration at At as RegisterCode would, and asks
// billing's Catalog.Quote. It writes nothing (a read-only transaction).
//
// Returns EUnknownAccount, EInvalid for an AssumePayment that is neither a
// card nor LINE Pay; a refused registration or purchase is reported in
// the Preview, not as an error.
func (s *Store) PreviewCharge(ctx context.Context, req PreviewRequest) (Preview, error) {
	p := Preview{Request: req}
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return p, err
	}
	defer tx.Rollback()
	quoteAt := req.At
	if req.Kind == billing.KindRenewal {
		quoteAt = billing.MonthOf(req.At).Next().Start()
	}
	cat, in, _, err := quoteIn(ctx, tx, quoteAt, req.AccountID, req.Kind, req.Plan, false)
	if err != nil {
		return p, err
	}
	if req.AssumePayment != "" {
		if !req.AssumePayment.Addable() {
			return p, billing.Errorf(billing.EInvalid, "只能假設新增信用卡或 LINE Pay。")
		}
		in.Account, p.Assumed = in.Account.WithFirstMethod(req.AssumePayment)
	}
	if req.Code != "" {
		norm := billing.NormalizeCode(req.Code)
		reg := billing.Registration{Account: in.Account, At: req.At, Typed: norm}
		if p.Registration = billing.CheckCodeTypo(norm); p.Registration == nil {
			var r codeRow
			err := tx.GetContext(ctx, &r, `SELECT `+codeCols+` FROM promo_codes WHERE code=$1`, norm)
			if err != nil && !isNoRows(err) {
				return p, err
			}
			if err == nil {
				reg.Code = r.billing()
				if reg.Campaign, err = findCampaign(ctx, tx, r.CampaignID); err != nil {
					return p, err
				}
				p.Display = r.Display
				if reg.Held, reg.HeldCampaign, err = heldCode(ctx, tx, req.AccountID); err != nil {
					return p, err
				}
				if err := tx.GetContext(ctx, &reg.UsedCampaign, `SELECT EXISTS (SELECT 1 FROM promo_codes WHERE account_id=$1 AND campaign_id=$2)`,
					req.AccountID, r.CampaignID); err != nil {
					return p, err
				}
			}
			p.Registration = billing.CheckRegistration(reg)
		}
		// A code already registered here is the held code quoteIn found.
		if p.Registration == nil && reg.Code.Status == billing.CodeIssued {
			c := *reg.Code
			c.AccountID, c.Status, c.RegisteredAt = req.AccountID, billing.CodeRegistered, req.At
			in.Code, in.Campaign = &c, reg.Campaign
		}
	}
	if in.Code != nil {
		p.Code, p.Campaign = in.Code, in.Campaign
		if p.Display == "" {
			if err := tx.GetContext(ctx, &p.Display, `SELECT display FROM promo_codes WHERE code=$1`, in.Code.Code); err != nil {
				return p, err
			}
		}
	}
	p.Quote, p.QuoteErr = cat.Quote(in)
	if req.Kind == billing.KindUpgrade && p.QuoteErr == nil {
		next := billing.QuoteInput{Kind: billing.KindRenewal, Account: p.Quote.Apply(in.Account), At: p.Quote.Month.Next().Start(),
			Code: in.Code, Campaign: in.Campaign}
		if p.Quote.Code != "" {
			next.Code = nil // spent by the upgrade
		}
		if q, err := cat.Quote(next); err == nil {
			p.Next = &q
		}
	}
	return p, nil
}
