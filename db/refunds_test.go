package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/mig/migcheck"
	"webstore/db"
)

// refundGateway is the test gateway that also refunds: it keeps the
// refunds it made by key (a repeat answers the first), refuses while
// refuse is set, and while lose is set makes the refund but loses the
// answer, as a time-out after the provider acted does.
type refundGateway struct {
	*gateway
	mu      sync.Mutex
	refunds map[string]billing.RefundPayment
	made    atomic.Int64
	refuse  atomic.Bool
	lose    atomic.Bool
}

func (g *refundGateway) Refund(_ context.Context, r billing.RefundPayment) (string, error) {
	if g.refuse.Load() {
		return "", &billing.DeclineError{Reason: "退款遭拒"}
	}
	g.mu.Lock()
	if _, ok := g.refunds[r.Key]; !ok {
		g.refunds[r.Key] = r
		g.made.Add(1)
	}
	g.mu.Unlock()
	if g.lose.Load() {
		return "", fmt.Errorf("POST /refunds: %w", context.DeadlineExceeded)
	}
	return "re-" + r.Key, nil
}

func newRefundFixture(t *testing.T) (fixture, *refundGateway) {
	t.Helper()
	f := newFixture(t)
	rg := &refundGateway{gateway: f.gw, refunds: map[string]billing.RefundPayment{}}
	f.s.Payments = rg
	if _, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{db.DemoBook(billing.InvoicePeriodOf(f.clk.Now()))}); err != nil {
		t.Fatal(err)
	}
	return f, rg
}

// paid makes account id (invoice details d) and a paid upgrade to High.
func (f fixture) paid(t *testing.T, id string, d billing.InvoiceDetails) db.Charge {
	t.Helper()
	f.account(t, id, billing.Light, billing.CreditCard, "tok")
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", id, d); err != nil {
		t.Fatal(err)
	}
	ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: id, Plan: billing.High, Key: "buy-" + id})
	if err != nil || ch.Status != billing.StatusPaid || ch.Invoice == "" {
		t.Fatalf("purchase: %+v, %v", ch, err)
	}
	return ch
}

// messages returns the kept e-invoice messages by type, each checked
// against EINVOICE.md's field rules (migcheck) with the imported books.
func (f fixture) messages(t *testing.T) map[string][]db.EInvoiceMessage {
	t.Helper()
	var books []struct {
		Period string `db:"period"`
		Track  string `db:"track"`
		First  int    `db:"first_no"`
		Last   int    `db:"last_no"`
	}
	if err := f.s.DB.SelectContext(f.ctx, &books, `SELECT period, track, first_no, last_no FROM einvoice_books`); err != nil {
		t.Fatal(err)
	}
	var ranges []billing.BookRange
	for _, b := range books {
		p, err := billing.ParseInvoicePeriod(b.Period)
		if err != nil {
			t.Fatal(err)
		}
		ranges = append(ranges, billing.BookRange{Period: p, Track: b.Track, Begin: b.First, End: b.Last})
	}
	ms, err := f.s.UnwrittenMessages(f.ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]db.EInvoiceMessage{}
	for _, m := range ms {
		if problems := migcheck.Check([]byte(m.Body), ranges); len(problems) > 0 {
			t.Errorf("%s %s: %v\n%s", m.Type, m.Name, problems, m.Body)
		}
		out[m.Type] = append(out[m.Type], m)
	}
	return out
}

var mobile = billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode, Carrier: "/ABC+123", Email: "a@example.com"}
var company = billing.InvoiceDetails{Kind: billing.InvoiceCompany, CompanyTitle: "獅子股份有限公司", TaxID: "04595257", Email: "b@example.com"}

// A full refund inside the cancel window reaches the provider once and
// cancels the invoice (F0501); the charge stays paid and the plan stays.
func TestFullRefundCancelsTheInvoice(t *testing.T) {
	f, rg := newRefundFixture(t)
	ch := f.paid(t, "bear", mobile)
	r, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Reason: "重複扣款", Key: "r1"})
	if err != nil || r.Status != billing.RefundSucceeded || r.Amount != ch.Total {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	if again, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Reason: "重複扣款", Key: "r1"}); err != nil || again.ID != r.ID {
		t.Fatalf("the same request again: %+v, %v", again, err)
	}
	if rg.made.Load() != 1 {
		t.Fatalf("provider refunded %d times", rg.made.Load())
	}
	if st, _, _, _, _, _ := f.invoice(t, ch.ID); st != "cancelled" {
		t.Fatalf("invoice %s, want cancelled", st)
	}
	ms := f.messages(t)
	if len(ms["F0401"]) != 1 || len(ms["F0501"]) != 1 || len(ms["G0401"]) != 0 {
		t.Fatalf("messages: %v", ms)
	}
	if !strings.Contains(ms["F0501"][0].Body, "<CancelInvoiceNumber>"+ch.Invoice+"</CancelInvoiceNumber>") {
		t.Fatalf("F0501:\n%s", ms["F0501"][0].Body)
	}
	after, _ := f.s.FindChargeByID(f.ctx, ch.ID)
	if after.Status != billing.StatusPaid {
		t.Fatalf("charge %s after a refund", after.Status)
	}
	if n := f.n(t, `SELECT count(*) FROM accounts WHERE id='bear' AND plan='high'`); n != 1 {
		t.Fatal("a refund changed the plan")
	}
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Amount: 1, Reason: "再退", Key: "r2"}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("a refund of a fully refunded charge: %v", err)
	}
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Amount: 5, Reason: "其他", Key: "r1"}); billing.ErrorCode(err) != billing.EKeyReused {
		t.Fatalf("a key reused for another refund: %v", err)
	}
}

// A partial refund to a person is an allowance issued only once the admin
// agrees through the e-mailed link; to a company it is issued at once.
func TestPartialRefundAllowance(t *testing.T) {
	f, _ := newRefundFixture(t)
	ch := f.paid(t, "bear", mobile)
	r, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Amount: 420, Reason: "服務中斷補償", Key: "r1"})
	if err != nil || r.Status != billing.RefundSucceeded {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	if ms := f.messages(t); len(ms["G0401"]) != 0 {
		t.Fatal("a person's allowance issued before the admin agreed")
	}
	waiting, err := f.s.WaitingAllowances(f.ctx)
	if err != nil || len(waiting) != 1 || waiting[0].Total != 420 || waiting[0].Net+waiting[0].Tax != 420 {
		t.Fatalf("waiting: %+v, %v", waiting, err)
	}
	var link string
	if err := f.s.DB.GetContext(f.ctx, &link, `SELECT params->>'link' FROM outbox WHERE kind='allowance_consent'`); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(link, "/einvoice/allowances/")
	if _, err := f.s.FindAllowance(f.ctx, "not-"+tok); billing.ErrorCode(err) != billing.EInvitationInvalid {
		t.Fatalf("a wrong token: %v", err)
	}
	al, err := f.s.AgreeAllowance(f.ctx, "user:ann", tok)
	if err != nil || al.Status != "issued" {
		t.Fatalf("agree: %+v, %v", al, err)
	}
	if again, err := f.s.AgreeAllowance(f.ctx, "user:ann", tok); err != nil || again.Number != al.Number {
		t.Fatalf("agree again: %+v, %v", again, err)
	}
	ms := f.messages(t)
	if len(ms["G0401"]) != 1 || ms["G0401"][0].Name != "AL"+ch.Invoice+"01" {
		t.Fatalf("G0401: %+v", ms["G0401"])
	}
	if st, _, _, _, _, _ := f.invoice(t, ch.ID); st != "issued" {
		t.Fatalf("invoice %s after an allowance, want issued", st)
	}

	lion := f.paid(t, "lion", company)
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: lion.ID, Amount: 105, Reason: "折讓", Key: "r2"}); err != nil {
		t.Fatal(err)
	}
	ms = f.messages(t)
	if len(ms["G0401"]) != 2 {
		t.Fatalf("a company's allowance is issued at once: %v", ms["G0401"])
	}
	// The link expires after 72 hours unanswered.
	rest := f.paid(t, "cat", mobile)
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: rest.ID, Amount: 100, Reason: "折讓", Key: "r3"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DB.GetContext(f.ctx, &link, `SELECT params->>'link' FROM outbox WHERE kind='allowance_consent' AND (params->>'refund_id')::bigint = (SELECT id FROM refunds WHERE idempotency_key='r3')`); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(db.AllowanceConsentTTL)
	if _, err := f.s.AgreeAllowance(f.ctx, "user:ann", strings.TrimPrefix(link, "/einvoice/allowances/")); billing.ErrorCode(err) != billing.EInvitationExpired {
		t.Fatalf("an expired link: %v", err)
	}
}

// Refunds of a charge never add up to more than it paid, whoever asks at
// once; a refusal changes nothing; a lost answer is collected once.
func TestRefundBounds(t *testing.T) {
	f, rg := newRefundFixture(t)
	ch := f.paid(t, "bear", company)
	third := ch.Total * 3 / 10
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; try < 50; try++ {
				_, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Amount: third, Reason: "分次退款", Key: fmt.Sprint("k", i)})
				if billing.ErrorCode(err) == billing.EConflict {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if err == nil {
					ok.Add(1)
				}
				return
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 3 {
		t.Fatalf("%d refunds of 30%% succeeded, want 3", ok.Load())
	}
	if n := f.n(t, `SELECT coalesce(sum(amount),0) FROM refunds WHERE status='succeeded'`); n > int64(ch.Total) {
		t.Fatalf("refunded %d of %d", n, ch.Total)
	}

	other := f.paid(t, "cat", mobile)
	rg.refuse.Store(true)
	r, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: other.ID, Reason: "退款", Key: "refused"})
	if billing.ErrorCode(err) != billing.EPaymentFailed || r.Status != billing.RefundFailed {
		t.Fatalf("refused: %+v, %v", r, err)
	}
	if st, _, _, _, _, _ := f.invoice(t, other.ID); st != "issued" {
		t.Fatalf("a refused refund touched the invoice: %s", st)
	}
	rg.refuse.Store(false)
	rg.lose.Store(true)
	made := rg.made.Load()
	r, err = f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: other.ID, Reason: "退款", Key: "lost"})
	if billing.ErrorCode(err) != billing.EPaymentPending || r.Status != billing.RefundPending {
		t.Fatalf("lost answer: %+v, %v", r, err)
	}
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: other.ID, Amount: 1, Reason: "另一筆", Key: "meanwhile"}); billing.ErrorCode(err) != billing.EConflict {
		t.Fatalf("a second refund while one is pending: %v", err)
	}
	rg.lose.Store(false)
	f.clk.Add(time.Minute)
	sum, err := f.s.CollectRefunds(f.ctx, "system:collect", f.clk.Now())
	if err != nil || sum.Paid != 1 {
		t.Fatalf("collect: %+v, %v", sum, err)
	}
	if rg.made.Load() != made+1 {
		t.Fatalf("provider refunded %d times for one refund", rg.made.Load()-made)
	}
	if st, _, _, _, _, _ := f.invoice(t, other.ID); st != "cancelled" {
		t.Fatalf("invoice %s after the collected full refund", st)
	}
	f.messages(t)
}

func (f fixture) n(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.s.DB.GetContext(f.ctx, &n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}
