package db_test

import (
	"reflect"
	"testing"

	"webstore/billing"
)

// Overview.Quote, which the checkout and 預定付款 price from, gives the
// same answer as Store.Quote (its own transaction) for every account state
// the pages meet: each plan, with and without a payment method, a code
// held, a downgrade scheduled, and for every upgrade and the next renewal.
func TestOverviewQuoteIsStoreQuote(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "SUMMER-2024-0001", "SUMMER-2024-0002")
	f.account(t, "light", billing.Light, billing.CreditCard, "tok-l")
	f.account(t, "nomethod", billing.Light, "", "")
	f.account(t, "medium", billing.Medium, billing.LinePay, "tok-m")
	f.account(t, "high", billing.High, billing.CreditCard, "tok-h")
	f.account(t, "coded", billing.Medium, billing.CreditCard, "tok-c")
	f.account(t, "codednomethod", billing.Light, "", "")
	for acct, code := range map[string]string{"coded": "SUMMER-2024-0001", "codednomethod": "SUMMER-2024-0002"} {
		if _, err := f.s.RegisterCode(f.ctx, "test", acct, code); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.ScheduleDowngrade(f.ctx, "test", "high", billing.Medium); err != nil {
		t.Fatal(err)
	}
	for _, acct := range []string{"light", "nomethod", "medium", "high", "coded", "codednomethod"} {
		o, err := f.s.FindOverview(f.ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		type ask struct {
			kind billing.ChargeKind
			to   billing.PlanID
		}
		asks := []ask{{billing.KindRenewal, ""}}
		for _, p := range []billing.PlanID{billing.Light, billing.Medium, billing.High} {
			asks = append(asks, ask{billing.KindUpgrade, p})
		}
		for _, a := range asks {
			got, gotErr := o.Quote(a.kind, a.to)
			want, wantErr := f.s.Quote(f.ctx, acct, a.kind, a.to)
			if billing.ErrorCode(gotErr) != billing.ErrorCode(wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s %s: overview %+v (%v), store %+v (%v)", acct, a.kind, a.to, got, gotErr, want, wantErr)
			}
		}
	}
}
