package web

import (
	"webstore/db"
	"webstore/views"
)

// The webstore's and manager's view models, built from the store's
// results: the views see screen-shaped values, never a database row.

// mapEach is f of each of xs, in order (nil for nil).
func mapEach[T, U any](xs []T, f func(T) U) []U {
	if xs == nil {
		return nil
	}
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// accountView is the overview as the account pages show it.
func accountView(o db.Overview) views.Account {
	v := views.Account{ID: o.ID, Name: o.Name, Region: o.Region, Account: o.Account, Plan: o.Plan, Scheduled: o.Scheduled,
		NextRenewal: o.NextRenewal, MonthEnd: o.MonthEnd, Methods: methodViews(o.Methods), Invoice: o.Invoice,
		Catalog: o.Catalog, Now: o.Now}
	if c := o.Code; c != nil {
		v.Code = &views.Code{Code: c.Code, Display: c.Display, Campaign: c.Campaign, Status: c.Status,
			Registered: c.Registered, Redeemed: c.Redeemed}
	}
	return v
}

// methodView is a payment method without its provider token.
func methodView(pm db.PaymentMethod) views.Method {
	return views.Method{ID: pm.ID, Kind: pm.Kind, IsMain: pm.IsMain, Label: pm.Label, Brand: pm.Brand, Last4: pm.Last4,
		Expiry: pm.Expiry, CreatedAt: pm.CreatedAt}
}

func methodViews(pms []db.PaymentMethod) []views.Method {
	return mapEach(pms, methodView)
}

// chargeView is a charge as its pages show it, the reason in l.
func chargeView(l views.Lang, c db.Charge) views.Charge {
	return views.Charge{ID: c.ID, Kind: c.Kind, Month: c.Month(), FromPlan: c.FromPlan, Plan: c.Plan,
		Amount: c.Amount, Offset: c.Offset, Forfeited: c.Forfeited, Tax: c.Tax, Total: c.Total,
		CodeDisplay: c.CodeDisplay, Status: c.Status, Retryable: c.Lifecycle().Retryable(), Reason: c.ReasonIn(string(l)),
		Attempts:    c.Attempts,
		NextRetryAt: timeOrZero(c.NextRetryAt.NullTime), PaymentID: c.PaymentID.Int64, Invoice: c.Invoice,
		CreatedAt: c.CreatedAt, PaidAt: timeOrZero(c.PaidAt.NullTime)}
}

func chargeViews(l views.Lang, cs []db.Charge) []views.Charge {
	return mapEach(cs, func(c db.Charge) views.Charge { return chargeView(l, c) })
}

func userView(u db.User) views.User {
	return views.User{ID: u.ID, Login: u.Login, DisplayName: u.DisplayName}
}

func membershipView(m db.Membership) views.Membership {
	return views.Membership{AccountID: m.AccountID, AccountName: m.AccountName, Region: m.Region, Role: m.Role}
}

func membershipViews(ms []db.Membership) []views.Membership {
	return mapEach(ms, membershipView)
}

func memberView(m db.Member) views.Member {
	return views.Member{UserID: m.UserID, Login: m.Login, DisplayName: m.DisplayName, Role: m.Role, Since: m.Since}
}

func memberViews(ms []db.Member) []views.Member {
	return mapEach(ms, memberView)
}

func invitationView(inv db.Invitation) views.Invitation {
	return views.Invitation{ID: inv.ID, AccountName: inv.AccountName, Role: inv.Role, CreatorName: inv.CreatorName,
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

func invitationViews(invs []db.Invitation) []views.Invitation {
	return mapEach(invs, invitationView)
}

// accountSettingsView is 帳號設定 with name in the box, and the session
// lifetimes the page states.
func accountSettingsView(o db.Overview, name string) views.AccountSettingsView {
	return views.AccountSettingsView{ID: o.ID, Region: o.Region, Name: name,
		SessionLifetime: db.SessionLifetime, SessionTTL: db.SessionTTL}
}
