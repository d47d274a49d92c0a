package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/billing/mig/migcheck"
	"webstore/db"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
	"webstore/web/payments/linepay"
)

// fits fails the test if the open page is wider than its window (it would
// scroll sideways), and checks that every element sel matches ends inside
// the window.
func fits(t *testing.T, ctx context.Context, where string, sels ...string) {
	t.Helper()
	if !evalBool(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`) {
		w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		t.Errorf("%s: the page is %d px wide, wider than its window", where, w)
	}
	for _, sel := range sels {
		js := fmt.Sprintf(`(() => { const es = [...document.querySelectorAll(%q)];
			return es.length > 0 && es.every(e => { const r = e.getBoundingClientRect(); return r.right <= window.innerWidth && r.left >= 0; }); })()`, sel)
		if !evalBool(t, ctx, js) {
			t.Errorf("%s: %s is missing or past the window's edge", where, sel)
		}
	}
}

// A journey in Chromium: each transition by each payment at 375 px, and a
// first purchase at 1280 px on the desktop manager, from the plan page to
// the receipt, with the receipt e-mail read back from Mailpit and every
// page visited checked to fit its window.
func TestBrowserJourneys(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t)
	smtp, err := mail.NewSMTP(mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		j     journey
		width int64
		// barcode: the first purchase's e-invoice goes to a mobile
		// barcode, and its F0401 is checked.
		barcode bool
	}{
		{journey{from: billing.Light, to: billing.High, pay: billing.CreditCard, first: true}, phoneW, false}, // NT$1,260 by card
		{journey{from: billing.Light, to: billing.Medium, pay: billing.LinePay, code: "part", first: true}, phoneW, false},
		{journey{from: billing.Light, to: billing.Medium, pay: billing.CreditCard, code: "full"}, phoneW, false},
		{journey{from: billing.Light, to: billing.High, pay: billing.LinePay, code: "part"}, phoneW, false},
		{journey{from: billing.Medium, to: billing.High, pay: billing.LinePay, first: true}, phoneW, false},
		{journey{from: billing.Medium, to: billing.High, pay: billing.CreditCard, code: "part"}, phoneW, false},
		{journey{from: billing.Light, to: billing.High, pay: billing.CreditCard, code: "part", first: true}, 1280, true}, // NT$420
	} {
		j := tc.j
		t.Run(fmt.Sprintf("%s@%d", j, tc.width), func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			code := prepare(t, a, j)
			acct := j.account()
			surface := "/a/"
			if tc.width > phoneW {
				surface = "/m/"
			}
			base := a.URL + surface + acct
			w := want[string(j.from)+"-"+string(j.to)+"/"+j.code]
			ctx := browser(t, tc.width, 900)
			signIn(t, ctx, a.URL, "alice")
			do(t, ctx, chromedp.Navigate(base+"/plan"), chromedp.WaitVisible(tid("upgrade-"+string(j.to))))
			fits(t, ctx, "plan")
			do(t, ctx, chromedp.Click(tid("upgrade-"+string(j.to))), chromedp.WaitVisible(tid("code-box")))
			fits(t, ctx, "checkout")
			if j.first {
				do(t, ctx,
					chromedp.Click(tid("set-einvoice")),
					chromedp.WaitVisible(tid("save-einvoice")),
				)
				fits(t, ctx, "e-invoice")
				kind := []chromedp.Action[chromedp.Void]{chromedp.Click(tid("inv-member"))}
				if tc.barcode {
					kind = []chromedp.Action[chromedp.Void]{chromedp.Click(tid("inv-mobile_barcode")), chromedp.SendKeys(tid("carrier"), "/ABC+123")}
				}
				do(t, ctx, kind...)
				do(t, ctx,
					chromedp.SendKeys(tid("email"), journeyEmail(j)),
					chromedp.Click(tid("save-einvoice")),
					chromedp.WaitVisible(tid("add-method")),
				)
				if code != "" {
					// Registered before the method: the page says what it will offset.
					do(t, ctx,
						chromedp.SendKeys(tid("code-input"), code),
						chromedp.Click(tid("code-submit")),
						chromedp.WaitVisible(tid("code-pending")),
					)
					if got := text(t, ctx, tid("code-pending")); !strings.Contains(got, w.offset.Decimal()) {
						t.Errorf("code before a method: %q, want %s", got, w.offset.Decimal())
					}
					fits(t, ctx, "checkout with a code and no method")
					code = ""
				}
				do(t, ctx, chromedp.Click(tid("add-method")), chromedp.WaitVisible(tid("method-next")))
				fits(t, ctx, "new method")
				if j.pay == billing.LinePay {
					do(t, ctx,
						chromedp.Click(tid("kind-linepay")),
						chromedp.Click(tid("method-next")),
						chromedp.Click(chromedp.CSS(`a.btn`)),
						chromedp.Click(chromedp.CSS(`input[name=card][value="`+linepay.CardCathayVisa+`"]`)),
						chromedp.Click(chromedp.CSS(`form.section button[type=submit]`)),
						chromedp.Click(chromedp.CSS(`form[action*="/app/payment/approve"] button[type=submit]`)),
						chromedp.WaitVisible(tid("main-method")),
					)
				} else {
					do(t, ctx,
						chromedp.Click(tid("kind-card")),
						chromedp.Click(tid("method-next")),
						chromedp.SendKeys(chromedp.ID("number"), "4242 4242 4242 4242"),
						chromedp.SendKeys(chromedp.ID("exp"), "12/30"),
						chromedp.SendKeys(chromedp.ID("cvc"), "123"),
						chromedp.SendKeys(chromedp.ID("name"), "LIN ALICE"),
						chromedp.Click(chromedp.CSS(`form button[type=submit]:not([name])`)),
						chromedp.WaitVisible(tid("main-method")),
					)
				}
			}
			if code != "" {
				do(t, ctx,
					chromedp.SendKeys(tid("code-input"), code),
					chromedp.Click(tid("code-submit")),
					chromedp.WaitVisible(tid("code-applied")),
				)
			}
			if got := text(t, ctx, tid("total")); got != w.total.Decimal() {
				t.Fatalf("checkout total %q, want %s", got, w.total.Decimal())
			}
			if got := text(t, ctx, tid("renewal-notice")); !strings.Contains(got, "自動續約") {
				t.Errorf("checkout renewal notice %q", got)
			}
			fits(t, ctx, "checkout ready")
			shot(t, ctx, fmt.Sprintf("journey-checkout-%s-%s-%d", j.from, j.to, tc.width))
			do(t, ctx,
				chromedp.Click(tid("terms")),
				chromedp.Click(tid("buy")),
				chromedp.WaitVisible(tid("result-title")),
			)
			if got := text(t, ctx, tid("line-total")); got != w.total.Decimal() {
				t.Errorf("result total %q, want %s", got, w.total.Decimal())
			}
			fits(t, ctx, "result")
			shot(t, ctx, fmt.Sprintf("journey-result-%s-%s-%d", j.from, j.to, tc.width))
			if o, _ := a.Store.FindOverview(context.Background(), acct); o.Plan.ID != j.to {
				t.Errorf("plan %s, want %s", o.Plan.ID, j.to)
			}

			// 付款記錄: the row, its invoice number and 收據 inside the window.
			do(t, ctx, chromedp.Navigate(base+"/history"), chromedp.WaitVisible(tid("receipt-link")))
			inside := []string{`[data-testid="receipt-link"]`}
			if w.total > 0 { // a charge of NT$0 has no e-invoice
				inside = append(inside, `[data-testid="invoice"]`)
			}
			fits(t, ctx, "history", inside...)
			shot(t, ctx, fmt.Sprintf("journey-history-%d", tc.width))
			do(t, ctx, chromedp.Click(tid("receipt-link")), chromedp.WaitVisible(tid("receipt")))
			fits(t, ctx, "receipt")
			if got := text(t, ctx, tid("receipt")); !strings.Contains(got, w.total.Decimal()) {
				t.Errorf("receipt does not show %s", w.total.Decimal())
			}

			// The receipt e-mail.
			wk := &mail.Worker{Store: a.Store, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: a.URL}
			if _, err := wk.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range mp.Messages(t) {
				if len(m.To) > 0 && m.To[0].Address == journeyEmail(j) && strings.Contains(m.Subject+m.Text, strings.TrimSuffix(w.total.Decimal(), ".00")) {
					found = true
				}
			}
			if !found {
				t.Errorf("no receipt naming %s sent to %s", w.total.Decimal(), journeyEmail(j))
			}
			if tc.barcode {
				checkF0401(t, a, mp, journeyEmail(j), w.total)
			}
		})
	}
}

// checkF0401 checks the e-invoice of a first purchase by card with a
// mobile barcode: the first number of the seeded book, B2C and
// tax-inclusive, kept in the barcode, passing EINVOICE.md's field rules,
// and named in the receipt e-mail sent to addr.
func checkF0401(t *testing.T, a app, mp mailpittest.Mailpit, addr string, total billing.Money) {
	t.Helper()
	ctx := context.Background()
	ms, err := a.Store.EInvoiceMessages(ctx, db.MessageFilter{})
	if err != nil || len(ms) != 1 || ms[0].Type != "F0401" || ms[0].Name != "AB12345600" {
		t.Fatalf("messages %+v, %v; want the F0401 of AB12345600", ms, err)
	}
	m, err := a.Store.EInvoiceMessage(ctx, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	book := db.DemoBook(billing.InvoicePeriodOf(m.EventAt))
	if problems := migcheck.Check([]byte(m.Body), []billing.BookRange{book}); len(problems) > 0 {
		t.Errorf("F0401: %v", problems)
	}
	for _, s := range []string{"<Identifier>0000000000</Identifier>", "<CarrierType>3J0002</CarrierType>", "<CarrierId1>/ABC+123</CarrierId1>",
		"<PrintMark>N</PrintMark>", "<SalesAmount>" + total.Plain() + "</SalesAmount>", "<TaxAmount>0</TaxAmount>", "<TotalAmount>" + total.Plain() + "</TotalAmount>"} {
		if !strings.Contains(m.Body, s) {
			t.Errorf("F0401 lacks %s", s)
		}
	}
	for _, msg := range mp.Messages(t) {
		if len(msg.To) > 0 && msg.To[0].Address == addr && strings.Contains(msg.Text, "AB12345600") {
			return
		}
	}
	t.Errorf("no receipt e-mail to %s names AB12345600", addr)
}
