package mail_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/sim"
	"webstore/web/mail/mailpittest"
)

// refunding is the sim provider that also refunds, every time.
type refunding struct{ *sim.Provider }

func (refunding) Refund(_ context.Context, r billing.RefundPayment) (string, error) {
	return "re-" + r.Key, nil
}

// paidWithInvoice makes account id with a paid upgrade to Medium whose
// e-invoice has its number, and sends (and drops) its receipt.
func (f fixture) paidWithInvoice(t *testing.T, id string) db.Charge {
	t.Helper()
	f.account(t, id, billing.Light)
	ch, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: id, Plan: billing.Medium, Key: "buy-" + id})
	if err != nil || ch.Status != billing.StatusPaid || ch.Invoice == "" {
		t.Fatalf("upgrade: %+v %v", ch, err)
	}
	return ch
}

func byKind(t *testing.T, ms []mailpittest.Message, subject string) mailpittest.Message {
	t.Helper()
	for _, m := range ms {
		if strings.Contains(m.Subject, subject) {
			return m
		}
	}
	t.Fatalf("no message %q among %d", subject, len(ms))
	return mailpittest.Message{}
}

// A receipt names the e-invoice's number, date and random number; a full
// refund inside the cancel window says the invoice is cancelled; a partial
// one says an allowance needs the admin's agreement, and the second mail
// carries the link (on BASE_URL) to agree, gone from the outbox once sent.
func TestReceiptAndRefundMails(t *testing.T) {
	f := newFixture(t)
	f.s.Payments = refunding{f.prov}
	if _, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{db.DemoBook(billing.InvoicePeriodOf(f.clk.Now()))}); err != nil {
		t.Fatal(err)
	}
	bear := f.paidWithInvoice(t, "bear")
	inv, err := f.s.InvoiceOf(f.ctx, bear.ID)
	if err != nil || inv.Number != bear.Invoice || len(inv.RandomNumber) != 4 {
		t.Fatalf("invoice of %d: %+v %v", bear.ID, inv, err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d receipts, want 1", n)
	}
	receipt := f.mp.Messages(t)[0]
	if want := "電子發票號碼:" + bear.Invoice + "(開立日期 2024/06/11,隨機碼 " + inv.RandomNumber + ")"; !strings.Contains(receipt.Text, want) {
		t.Errorf("receipt lacks %q:\n%s", want, receipt.Text)
	}

	// Full refund, same day: the invoice is cancelled.
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: bear.ID, Reason: "重複購買", Key: "r1"}); err != nil {
		t.Fatal(err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d after a full refund, want 1", n)
	}
	m := byKind(t, f.mp.Messages(t), "退款通知")
	if m.Subject != "【bear 商店】退款通知 NT$840.00" || !strings.Contains(m.Text, "電子發票 "+bear.Invoice+" 已作廢") ||
		!strings.Contains(m.Text, "重複購買") || !strings.Contains(m.HTML, "https://webstore.test/a/bear/charges/"+strconv.FormatInt(bear.ID, 10)) {
		t.Errorf("full refund notice %s\n%s", m.Subject, m.Text)
	}

	// Partial refund: an allowance waiting for the admin.
	cat := f.paidWithInvoice(t, "cat")
	f.send(t) // cat's receipt
	if _, err := f.s.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: cat.ID, Amount: 300, Reason: "服務中斷補償", Key: "r2"}); err != nil {
		t.Fatal(err)
	}
	if n := f.send(t); n != 2 {
		t.Fatalf("sent %d after a partial refund, want 2 (notice and consent)", n)
	}
	ms := f.mp.Messages(t)
	notice := byKind(t, ms, "退款通知 NT$300.00")
	if !strings.Contains(notice.Text, "電子發票 "+cat.Invoice+" 須開立折讓單沖減 NT$300.00") || !strings.Contains(notice.Text, "另寄一封信") {
		t.Errorf("partial refund notice:\n%s", notice.Text)
	}
	ask := byKind(t, ms, "請同意電子發票折讓")
	link := regexp.MustCompile(`https://webstore\.test/einvoice/allowances/[A-Za-z0-9_-]+`).FindString(ask.Text)
	if link == "" || !strings.Contains(ask.Text, "NT$300.00") || !strings.Contains(ask.Text, cat.Invoice) || !strings.Contains(ask.Text, "2024/06/14 10:00") {
		t.Errorf("consent mail (link %q):\n%s", link, ask.Text)
	}
	tok := link[strings.LastIndex(link, "/")+1:]
	if al, err := f.s.FindAllowance(f.ctx, tok); err != nil || al.Total != 300 || al.Status != "awaiting_consent" {
		t.Errorf("the mailed link opens %+v, %v", al, err)
	}
	var left int
	if err := f.s.DB.Get(&left, `SELECT count(*) FROM outbox WHERE params::text LIKE '%' || $1 || '%'`, tok); err != nil || left != 0 {
		t.Errorf("the token is still in the outbox (%d rows, %v)", left, err)
	}
}
