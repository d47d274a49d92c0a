package sim

import (
	"context"
	"fmt"
	"time"

	"webstore/billing"
	"webstore/db"
)

// simulate replays sc on s, whose clock is clock and whose payments go to
// prov, through the store's exported methods only.
func simulate(ctx context.Context, s *db.Store, sc Scenario, clock *simClock, prov *Provider) (Output, error) {
	out := Output{Name: sc.Name, Passed: true, Results: []Result{}, Accounts: []Final{}}
	start := time.Now()
	if len(sc.Events) > 0 {
		start, _ = parseInstant(sc.Events[0].At)
	}
	clock.Set(start)
	const actor = db.Actor("sim")
	for _, a := range sc.Accounts {
		if err := s.CreateAccount(ctx, actor, db.NewAccount{ID: a.ID, Region: a.Region, Plan: billing.PlanID(a.Plan), PaidMonth: billing.MonthOf(start)}); err != nil {
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
		res := Result{At: e.At, Do: e.Do, Account: e.Account, Charges: []Charge{}}
		charges, err := simEvent(ctx, s, e, at, prov)
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
		f, err := simFinal(ctx, s, cat, a.ID)
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

func simMethod(accountID, kind string) db.PaymentMethod {
	return db.PaymentMethod{AccountID: accountID, Kind: billing.PaymentKind(kind), Token: "sim", Label: "simulated " + kind}
}

func simEvent(ctx context.Context, s *db.Store, e Event, at time.Time, prov *Provider) ([]db.Charge, error) {
	const actor = db.Actor("sim")
	switch e.Do {
	case "register_code":
		_, err := s.RegisterCode(ctx, actor, e.Account, e.Code)
		return nil, err
	case "upgrade":
		ch, err := s.Upgrade(ctx, actor, db.UpgradeRequest{AccountID: e.Account, Plan: billing.PlanID(e.Plan)})
		if ch.ID == 0 {
			return nil, err
		}
		if ch.Status == billing.StatusPending && billing.ErrorCode(err) == billing.EPaymentPending {
			err = nil // no clear answer: the upgrade is made, its payment pending
		}
		return []db.Charge{ch}, err
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
		before, err := s.LatestChargeID(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.ClaimRenewalRun(ctx, actor, m); err != nil {
			return nil, err
		}
		if _, err := s.RunRenewal(ctx, actor, m, true); err != nil {
			return nil, err
		}
		written, err := s.FindChargesAfter(ctx, before)
		var cs []db.Charge
		for _, c := range written {
			if c.Kind == billing.KindRenewal {
				cs = append(cs, c)
			}
		}
		return cs, err
	case "collect":
		return changedBy(ctx, s, func() error {
			_, err := s.Collect(ctx, actor, 0)
			return err
		})
	case "retry":
		ch, err := RetryLatest(ctx, s, actor, e.Account)
		if ch.ID == 0 || billing.ErrorCode(err) == billing.ENothingToRetry {
			return nil, err
		}
		if ch.Status == billing.StatusPending && billing.ErrorCode(err) == billing.EPaymentPending {
			err = nil
		}
		return []db.Charge{ch}, err
	case "preview":
		kind := billing.KindUpgrade
		if e.Action == "renew" {
			kind = billing.KindRenewal
		}
		q, err := s.QuoteAt(ctx, e.Account, kind, billing.PlanID(e.Plan), at)
		if err != nil || !q.Chargeable() {
			return nil, err
		}
		display, err := s.CodeDisplay(ctx, q.Code)
		if err != nil {
			return nil, err
		}
		return []db.Charge{{AccountID: q.AccountID, Kind: q.Kind, FromPlan: q.FromPlan, Plan: q.Plan, Amount: q.Amount, Offset: q.Offset,
			Forfeited: q.Forfeited, Net: q.Net, Tax: q.Tax, Total: q.Total, Code: q.Code, CodeDisplay: display, Status: "preview"}}, nil
	}
	return nil, billing.Errorf(billing.EInvalid, "unknown event %q", e.Do)
}

// changedBy runs fn and returns the charges it wrote or whose status it
// changed, oldest first.
func changedBy(ctx context.Context, s *db.Store, fn func() error) ([]db.Charge, error) {
	before, err := s.TakeChargeStatuses(ctx)
	if err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		return nil, err
	}
	return s.FindChargesChangedSince(ctx, before)
}

func simCharge(c db.Charge) Charge {
	sc := Charge{Account: c.AccountID, Kind: string(c.Kind), FromPlan: string(c.FromPlan), Plan: string(c.Plan),
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

// simFinal is the account's state as of the clock (its scheduled change
// settled if due), as the account's pages read it.
func simFinal(ctx context.Context, s *db.Store, cat billing.Catalog, id string) (Final, error) {
	o, err := s.FindOverviewWith(ctx, id, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return Final{}, err
	}
	a := o.Account
	f := Final{ID: id, Plan: string(a.Plan)}
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
		f.Code = &Code{Code: rc.Display, Status: string(rc.Status)}
	}
	return f, nil
}
