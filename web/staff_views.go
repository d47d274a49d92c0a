package web

import (
	"database/sql"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/sim"
	"webstore/views"
)

// The staff console's view models, built from the store's results: the
// views see screen-shaped values, never a database row.

func staffAccountView(l views.Lang, d db.StaffAccountData) views.StaffAccountView {
	o := d.Overview
	v := views.StaffAccountView{ID: o.ID, Name: o.Name, Region: o.Region, Plan: o.Plan, Scheduled: o.Scheduled,
		PaidThisMonth: o.Account.PaidFor(d.Month), NextRenewal: o.NextRenewal, Invoice: o.Invoice, Month: d.Month,
		Free: d.Usage.FreeSent, Additional: d.Usage.AdditionalSent, RefreshedAt: d.Usage.RefreshedAt,
		LiveFree: d.LiveFree, LiveAdditional: d.LiveAdditional, Catalog: o.Catalog}
	if o.Scheduled != nil {
		v.ScheduledFor = o.Account.ScheduledFor
	}
	for _, pm := range o.Methods {
		v.Methods = append(v.Methods, views.MethodRow{Label: l.MethodLabel(methodView(pm)), Main: pm.IsMain})
	}
	if c := o.Code; c != nil {
		v.Code = &views.HeldCode{Display: c.Display, Status: c.Status, CampaignID: c.Campaign.ID, Campaign: c.Campaign.Name,
			Registered: c.Registered, Redeemed: c.Redeemed, ValidFrom: c.Campaign.ValidFrom, Until: c.Campaign.ValidUntil}
	}
	for _, c := range d.Charges {
		v.Charges = append(v.Charges, chargeRow(l, c))
	}
	days, vals := views.MonthDays(d.Month, dayCounts(d.Daily))
	v.Daily = views.NewBarChart(days, [][]int64{vals}, []string{"s1"}, []string{l.T("則數", "messages")}, 620, 120)
	v.Audit = auditRows(l, o.Catalog, d.Audit)
	return v
}

func chargeRow(l views.Lang, c db.Charge) views.ChargeRow {
	r := views.ChargeRow{ID: c.ID, CreatedAt: c.CreatedAt, Kind: c.Kind, Month: c.Month(), FromPlan: c.FromPlan, Plan: c.Plan,
		Amount: c.Amount, Offset: c.Offset, Forfeited: c.Forfeited, Net: c.Net, Tax: c.Tax, Total: c.Total,
		Code: c.CodeDisplay, Status: c.Status, Attempts: c.Attempts, NextRetry: timeOrZero(c.NextRetryAt.NullTime),
		Retryable: c.Lifecycle().Retryable()}
	if c.Failure != "" {
		r.Reason = c.ReasonIn(string(l))
	}
	return r
}

// timeOrZero is a nullable instant as the views take it: zero for none.
func timeOrZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

func dayCounts(ds []db.DayCount) []views.DayCount {
	return mapEach(ds, func(d db.DayCount) views.DayCount {
		return views.DayCount{Day: d.Day, Count: d.Count}
	})
}

// auditRows tells audit entries in l, naming plans by cat.
func auditRows(l views.Lang, cat billing.Catalog, es []db.AuditEntry) []views.AuditRow {
	return mapEach(es, func(e db.AuditEntry) views.AuditRow {
		return views.AuditRow{At: e.At, Actor: e.Actor, AccountID: e.AccountID.String, Kind: e.Kind,
			KindLabel: l.AuditKind(e.Kind), ActorLabel: l.AuditActor(e.Actor),
			Sentences: l.AuditSentences(e.Kind, e.Before.String, e.After.String, cat),
			Before:    e.Before.String, After: e.After.String}
	})
}

func accountHits(l views.Lang, cat billing.Catalog, hs []db.AccountHit) []views.AccountHit {
	return mapEach(hs, func(h db.AccountHit) views.AccountHit {
		return views.AccountHit{ID: h.ID, Name: h.Name, Region: h.Region, PlanName: l.PlanNameByID(cat, billing.PlanID(h.Plan))}
	})
}

func campaignRows(cs []db.CampaignSummary) []views.CampaignRow {
	return mapEach(cs, func(c db.CampaignSummary) views.CampaignRow {
		return views.CampaignRow{ID: c.ID, Name: c.Name, FaceValue: c.FaceValue, ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, Issued: c.Issued}
	})
}

func campaignReport(r db.CampaignReport) views.CampaignReport {
	return views.CampaignReport{Issued: r.Issued, Registered: r.Registered, Redeemed: r.Redeemed, Expired: r.Expired,
		Offset: billing.Money(r.Offset), Forfeited: billing.Money(r.Forfeited), AtUpgrade: r.AtUpgrade, AtRenewal: r.AtRenewal}
}

func codeDays(ds []db.CodeDay) []views.CodeDay {
	return mapEach(ds, func(d db.CodeDay) views.CodeDay {
		return views.CodeDay{Day: d.Day, Registered: d.Registered, Redeemed: d.Redeemed}
	})
}

func codeJob(j db.CodeJob) views.CodeJob {
	return views.CodeJob{ID: j.ID, CampaignID: j.CampaignID, Requested: j.Requested, Done: j.Done, Status: views.JobStatus(j.Status),
		Error: j.Error, StartedBy: j.StartedBy, StartedAt: j.StartedAt}
}

func codeJobs(js []db.CodeJob) []views.CodeJob {
	return mapEach(js, codeJob)
}

func renewalRun(r db.RenewalRun) views.RenewalRun {
	v := views.RenewalRun{Month: r.BillingMonth(), Phase: r.Phase, Running: r.Running(), Done: r.Done, Expected: r.Expected,
		StartedBy: r.StartedBy, StartedAt: r.StartedAt, FinishedAt: timeOrZero(r.FinishedAt), Error: r.Error}
	if res := r.Result; res != nil {
		v.Result = &views.RunResult{AlreadyDone: res.Renewal.AlreadyDone, Charges: res.Renewal.Charges, PlanChanges: res.Renewal.PlanChanges,
			Codes: res.Renewal.CodesRedeemed, Deferred: res.Renewal.Deferred, Total: billing.Money(res.Renewal.Total),
			UsageMonth: res.Usage.Month, UsageCharges: res.Usage.Charges, UsageTotal: billing.Money(res.Usage.Total),
			Attempted: res.Collection.Attempted, Paid: res.Collection.Paid, Failed: res.Collection.Failed,
			Unknown: res.Collection.Unknown, Void: res.Collection.Void}
	}
	return v
}

func renewalRuns(rs []db.RenewalRun) []views.RenewalRun {
	return mapEach(rs, renewalRun)
}

func renewalEstimate(e db.RenewalEstimate) *views.RenewalEstimate {
	return &views.RenewalEstimate{Month: e.Month, Candidates: e.Candidates, Charges: e.Charges, PlanChanges: e.PlanChanges,
		Amount: e.Amount, Offset: e.Offset, Tax: e.Tax, Total: e.Total, Codes: e.Codes, NoPayment: e.NoPayment,
		AlreadyDone: e.AlreadyDone, AlreadyTotal: e.AlreadyTotal, Seconds: e.Seconds}
}

func renewalOutcome(l views.Lang, o db.RenewalOutcome) views.RenewalOutcome {
	v := views.RenewalOutcome{Charges: o.Charges, Paid: o.Paid, Pending: o.Pending, Failed: o.Failed,
		Total: billing.Money(o.Total), Collected: billing.Money(o.PaidSum), Codes: o.Codes}
	for _, c := range o.Failures {
		v.Failures = append(v.Failures, views.FailedRenewal{ChargeID: c.ID, AccountID: c.AccountID, AccountName: c.AccountName,
			Total: c.Total, Reason: c.ReasonIn(string(l)), Attempts: c.Attempts, NextRetry: timeOrZero(c.NextRetryAt.NullTime)})
	}
	return v
}

// previewResult shows a typed code not yet issued as billing normalises
// and groups it; an issued one as issued.
func previewResult(p db.Preview) *views.PreviewResult {
	v := &views.PreviewResult{Quote: p.Quote, Next: p.Next, At: p.Request.At, Code: p.Display, Typed: p.Request.Code != "",
		Registration: p.Registration, Held: p.Code != nil, Campaign: p.Campaign, QuoteErr: p.QuoteErr}
	if p.Assumed {
		v.Assumed = p.Request.AssumePayment
	}
	if v.Code == "" && v.Typed {
		v.Code = billing.DisplayCode(billing.NormalizeCode(p.Request.Code))
	}
	return v
}

func simOutput(o sim.Output) *views.SimOutput {
	v := &views.SimOutput{Name: o.Name, Passed: o.Passed, Mismatches: len(o.Mismatches()), AccountMismatches: o.AccountMismatches}
	for _, r := range o.Results {
		res := views.SimResult{At: r.At, Do: r.Do, Account: r.Account, OK: r.OK, Error: r.Error, Message: r.Message, Mismatch: r.Mismatch}
		for _, c := range r.Charges {
			sc := views.SimCharge{Account: c.Account, Kind: c.Kind, FromPlan: c.FromPlan, Plan: c.Plan, Amount: c.Amount, Offset: c.Offset,
				Forfeited: c.Forfeited, Net: c.Net, Tax: c.Tax, Total: c.Total, Status: billing.ChargeStatus(c.Status), Failure: c.Failure}
			if c.Code != nil {
				sc.Code = *c.Code
			}
			res.Charges = append(res.Charges, sc)
		}
		v.Results = append(v.Results, res)
	}
	for _, a := range o.Accounts {
		sa := views.SimAccount{ID: a.ID, Plan: a.Plan, Quota: a.Quota}
		if a.ScheduledPlan != nil {
			sa.Scheduled = *a.ScheduledPlan
		}
		if a.Code != nil {
			sa.Code, sa.CodeStatus = a.Code.Code, a.Code.Status
		}
		v.Accounts = append(v.Accounts, sa)
	}
	return v
}

func tokenRows(ts []db.StaffToken) []views.TokenRow {
	return mapEach(ts, func(t db.StaffToken) views.TokenRow {
		return views.TokenRow{ID: t.ID, Label: t.Label, Login: t.Login, CreatedAt: t.CreatedAt, RevokedAt: timeOrZero(t.RevokedAt)}
	})
}
