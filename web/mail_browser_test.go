package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
)

// A purchase made in the browser sends a receipt naming its total to the
// e-invoice address: read back from a real Mailpit.
func TestPhonePurchaseSendsReceipt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mp := mailpittest.Start(t)
	smtp, err := mail.NewSMTP(mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{Store: a.Store, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: a.URL}
	if _, err := a.Store.SaveInvoiceDetails(context.Background(), "test", "bear",
		billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "owner@bear.example.tw"}); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	addCard(t, ctx, a.URL, "bear", "4242 4242 4242 4242")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/bear/checkout?plan=medium"),
		chromedp.WaitVisible(tid("main-method")),
		chromedp.Click(tid("terms")),
		chromedp.Click(tid("buy")),
		chromedp.WaitVisible(tid("result-title")),
	)
	total := text(t, ctx, tid("line-total")) // NT$840.00
	if n, err := w.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("sent %d (%v), want the receipt", n, err)
	}
	ms := mp.Messages(t)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	m := ms[0]
	if m.To[0].Address != "owner@bear.example.tw" || !strings.Contains(m.Subject, strings.TrimSuffix(total, ".00")) ||
		!strings.Contains(m.Text, "AB123456") || !strings.Contains(m.HTML, "/a/bear/charges/") {
		t.Errorf("receipt to %v: %q\n%s", m.To, m.Subject, m.Text)
	}
}
