package payments_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// fixture serves both sandboxes on one test database, mounted as the app
// mounts them, with clients and the router over them.
type fixture struct {
	ctx context.Context
	db  *sqlx.DB
	srv *httptest.Server
	gw  payments.Gateway
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, nil)
}

// newFixtureWith is newFixture with the sandboxes' refund faults.
func newFixtureWith(t *testing.T, lineFault func(string) linepay.Fault, cardFault func(string) cardgw.Fault) *fixture {
	t.Helper()
	d, _ := sandboxtest.NewDB(t)
	now := func() time.Time { return time.Date(2026, 6, 11, 10, 0, 0, 0, billing.Taipei) }
	mux := http.NewServeMux()
	mux.Handle("/sandbox/linepay/", linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: "1657000000", ChannelSecret: "line-secret",
		BasePath: "/sandbox/linepay", Now: now, RefundFault: lineFault}))
	mux.Handle("/sandbox/cardgw/", cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_test", SecretKey: "sk_test",
		BasePath: "/sandbox/cardgw", Now: now, RefundFault: cardFault}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{ctx: context.Background(), db: d, srv: srv, gw: payments.Gateway{
		LinePay: &linepay.Client{BaseURL: srv.URL + "/sandbox/linepay", ChannelID: "1657000000", ChannelSecret: "line-secret", HTTP: srv.Client()},
		Cards:   &cardgw.Client{BaseURL: srv.URL + "/sandbox/cardgw", SecretKey: "sk_test", HTTP: srv.Client()},
	}}
}

// regKey registers LINE Pay automatic payment with card, as an admin does
// at checkout.
func (f *fixture) regKey(t *testing.T, orderID, card string) string {
	t.Helper()
	res, err := f.gw.LinePay.Request(f.ctx, linepay.RequestParams{Amount: 840, OrderID: orderID, ProductName: payments.ProductName,
		ConfirmURL: "https://shop.example/confirm", CancelURL: "https://shop.example/cancel"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, card); err != nil {
		t.Fatal(err)
	}
	conf, err := f.gw.LinePay.Confirm(f.ctx, res.TransactionID, 840, "TWD")
	if err != nil {
		t.Fatal(err)
	}
	return conf.RegKey
}

// card stores a card through the hosted fields, as an admin does.
func (f *fixture) card(t *testing.T, number string) string {
	t.Helper()
	fields := cardgw.FieldsURL(f.gw.Cards.BaseURL, "pk_test", "https://shop.example/card")
	p, err := sandboxtest.EnterCard(f.ctx, f.srv.Client(), fields, sandboxtest.Card{Number: number, Expiry: "12/29", CVC: "123", Name: "林小美"})
	if err != nil || p.Location == nil {
		t.Fatalf("enter card %s: %v %s", number, err, p.Body)
	}
	c, err := f.gw.Cards.AttachCard(f.ctx, p.Location.Query().Get("card_token"))
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// declineReason is the zh-TW reason of a *billing.DeclineError, or "".
func declineReason(err error) string {
	var d *billing.DeclineError
	if errors.As(err, &d) {
		return d.Reason
	}
	return ""
}

func TestLinePay(t *testing.T) {
	f := newFixture(t)
	good := f.regKey(t, "reg-good", linepay.CardCathayVisa)
	p := billing.Payment{ChargeID: 7, AccountID: "bear", Kind: billing.LinePay, Token: good, Amount: 1260, Key: "charge-7"}
	ref, err := f.gw.Pay(f.ctx, p)
	if err != nil || len(ref) != 19 {
		t.Fatalf("pay: %q %v", ref, err)
	}
	// A retry after a lost answer returns the same payment.
	if again, err := f.gw.Pay(f.ctx, p); err != nil || again != ref {
		t.Fatalf("retry: %q %v, want %q", again, err, ref)
	}
	var name string
	if err := f.db.Get(&name, `SELECT product_name FROM sandbox_linepay_transactions WHERE transaction_id=$1::bigint`, ref); err != nil || name != payments.ProductName {
		t.Fatalf("product name %q (%v)", name, err)
	}

	bad := f.regKey(t, "reg-bad", linepay.CardDeclinedLater)
	_, err = f.gw.Pay(f.ctx, billing.Payment{ChargeID: 8, Kind: billing.LinePay, Token: bad, Amount: 1260, Key: "charge-8"})
	if r := declineReason(err); r != "LINE Pay 付款失敗:信用卡付款失敗,請改用其他卡片。" {
		t.Fatalf("declined: %v", err)
	}
	if err := f.gw.LinePay.ExpireRegKey(f.ctx, good); err != nil {
		t.Fatal(err)
	}
	_, err = f.gw.Pay(f.ctx, billing.Payment{ChargeID: 9, Kind: billing.LinePay, Token: good, Amount: 1260, Key: "charge-9"})
	if r := declineReason(err); !strings.Contains(r, "重新設定 LINE Pay 付款方式") {
		t.Fatalf("expired regKey: %v", err)
	}
}

func TestCreditCard(t *testing.T) {
	f := newFixture(t)
	good := f.card(t, "4242 4242 4242 4242")
	p := billing.Payment{ChargeID: 7, Kind: billing.CreditCard, Token: good, Amount: 840, Key: "charge-7"}
	ref, err := f.gw.Pay(f.ctx, p)
	if err != nil || !strings.HasPrefix(ref, "ch_") {
		t.Fatalf("pay: %q %v", ref, err)
	}
	if again, err := f.gw.Pay(f.ctx, p); err != nil || again != ref {
		t.Fatalf("retry: %q %v, want %q", again, err, ref)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sandbox_card_charges`); err != nil || n != 1 {
		t.Fatalf("%d charges (%v), want 1", n, err)
	}

	poor := f.card(t, "4000 0000 0000 0341")
	_, err = f.gw.Pay(f.ctx, billing.Payment{ChargeID: 8, Kind: billing.CreditCard, Token: poor, Amount: 840, Key: "charge-8"})
	if r := declineReason(err); !strings.Contains(r, "額度不足") {
		t.Fatalf("declined: %v", err)
	}
	// A card the gateway no longer knows is refused outright: nothing was
	// taken, so the charge fails with a reason the admin can act on
	// (only no answer, or a 5xx, leaves the outcome unknown).
	_, err = f.gw.Pay(f.ctx, billing.Payment{ChargeID: 9, Kind: billing.CreditCard, Token: "card_unknown", Amount: 840, Key: "charge-9"})
	if r := declineReason(err); !strings.Contains(r, "重新新增信用卡") {
		t.Fatalf("unknown card: %v", err)
	}
}

func TestOtherKindsAndFailures(t *testing.T) {
	f := newFixture(t)
	_, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 1, Kind: billing.BankTransfer, Amount: 840, Key: "charge-1"})
	if r := declineReason(err); !strings.Contains(r, "轉帳") {
		t.Fatalf("bank transfer: %v", err)
	}
	if _, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 2, Kind: "cash", Token: "x", Amount: 840, Key: "charge-2"}); err == nil || declineReason(err) != "" {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 3, Kind: billing.CreditCard, Token: "card_x", Amount: 840}); err == nil {
		t.Fatal("paid without an idempotency key")
	}

	// Providers that cannot be reached give ordinary errors, so the store
	// does not tell the admin their card was refused.
	f.srv.Close()
	for _, kind := range []billing.PaymentKind{billing.LinePay, billing.CreditCard} {
		_, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 4, Kind: kind, Token: "tok", Amount: 840, Key: "charge-4"})
		if err == nil || declineReason(err) != "" {
			t.Errorf("%s with the provider down: %v", kind, err)
		}
	}
}

// TestStoreUpgrade runs a purchase through the billing store with the real
// router: the paid charge carries the provider's reference, a declined one
// the zh-TW reason.
func TestStoreUpgrade(t *testing.T) {
	f := newFixture(t)
	clock := billing.ClockFunc(func() time.Time { return time.Date(2026, 6, 11, 10, 0, 0, 0, billing.Taipei) })
	s := db.New(f.db, clock, f.gw)
	for _, c := range []struct{ account, number string }{{"bear", "4242424242424242"}, {"sally", "4000000000000341"}} {
		if err := s.CreateAccount(f.ctx, "test", db.NewAccount{ID: c.account, Name: c.account, Region: "TW", Plan: billing.Light}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: c.account, Kind: billing.CreditCard, Token: f.card(t, c.number)}, true); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "checkout-1"})
	if err != nil || ch.Status != "paid" || !strings.HasPrefix(ch.PaymentRef, "ch_") {
		t.Fatalf("upgrade: %+v %v", ch, err)
	}
	ch, err = s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "sally", Plan: billing.Medium, Key: "checkout-2"})
	if billing.ErrorCode(err) != billing.EPaymentFailed || ch.Status != "failed" || !strings.Contains(ch.Reason(), "額度不足") {
		t.Fatalf("declined upgrade: %+v %v", ch, err)
	}
}
