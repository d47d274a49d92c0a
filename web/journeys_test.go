package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// A journey is one purchase made as an admin makes it, from the rendered
// pages: the plan page's 升級, the checkout, on a first purchase the
// e-invoice form and a payment method added through its provider, a code
// typed into the code box, the terms ticked, 購買.
type journey struct {
	from, to billing.PlanID
	pay      billing.PaymentKind
	code     string // "", "full" (the face value is the whole difference), "part" (see codeFace)
	first    bool   // no e-invoice details and no payment method yet
}

func (j journey) String() string {
	who := "returning"
	if j.first {
		who = "first"
	}
	code := j.code
	if code == "" {
		code = "nocode"
	}
	return fmt.Sprintf("%s-%s/%s/%s/%s", j.from, j.to, j.pay, code, who)
}

// account is the seeded account on the journey's starting plan: bear is
// on 輕用量, cat on 中用量 paid for this month.
func (j journey) account() string {
	if j.from == billing.Light {
		return "bear"
	}
	return "cat"
}

// want is what each journey must be charged, worked out by hand from
// RULES.md (fees 0 / 800 / 1,200, 5 % tax after the offset): the figures
// a four-digit purchase reaches included.
var want = map[string]struct{ offset, forfeited, total billing.Money }{
	"light-medium/":     {0, 0, 840},
	"light-medium/full": {800, 0, 0},
	"light-medium/part": {800, 200, 0}, // a NT$1,000 code: NT$200 forfeited
	"light-high/":       {0, 0, 1260},
	"light-high/full":   {1200, 0, 0},
	"light-high/part":   {800, 0, 420}, // a NT$800 code offsets part of NT$1,200
	"medium-high/":      {0, 0, 420},
	"medium-high/full":  {400, 0, 0},
	"medium-high/part":  {400, 400, 0}, // a NT$800 code: NT$400 forfeited
}

// codeFace is the face value of the campaign a journey's code comes from.
func (j journey) codeFace() billing.Money {
	w := want[string(j.from)+"-"+string(j.to)+"/"+j.code]
	switch {
	case j.code == "full":
		return w.offset
	case j.from == billing.Light && j.to == billing.Medium:
		return 1000
	default:
		return 800
	}
}

// journeys is the matrix: every plan transition × payment × code ×
// first-time or returning.
func journeys() []journey {
	var js []journey
	for _, tr := range [][2]billing.PlanID{{billing.Light, billing.Medium}, {billing.Light, billing.High}, {billing.Medium, billing.High}} {
		for _, pay := range []billing.PaymentKind{billing.LinePay, billing.CreditCard} {
			for _, code := range []string{"", "full", "part"} {
				for _, first := range []bool{true, false} {
					js = append(js, journey{from: tr[0], to: tr[1], pay: pay, code: code, first: first})
				}
			}
		}
	}
	return js
}

// journeyEmail is where a journey's receipts go: one address per journey,
// so each finds its own mail in the shared Mailpit.
func journeyEmail(j journey) string {
	r := strings.NewReplacer("/", ".", "_", "")
	return strings.ToLower(r.Replace(j.String())) + "@journey.example.tw"
}

// prepare gives a returning journey's account what an earlier visit left:
// e-invoice details and a main payment method of the journey's kind; and
// a code of the journey's kind of campaign for the admin to type.
func prepare(t *testing.T, a app, j journey) (code string) {
	t.Helper()
	ctx := context.Background()
	acct := j.account()
	if !j.first {
		switch j.pay {
		case billing.LinePay:
			setUpLinePay(t, a, acct, linepay.CardCathayVisa)
		default:
			storeCard(t, a, acct, "4242424242424242")
		}
		if _, err := a.Store.SaveInvoiceDetails(ctx, "test", acct, billing.InvoiceDetails{Kind: billing.InvoiceMember, Email: journeyEmail(j)}); err != nil {
			t.Fatal(err)
		}
	}
	if j.code == "" {
		return ""
	}
	c, err := a.Store.FindCampaignByID(ctx, db.DemoCampaignID(a.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	c.ID, c.Name, c.FaceValue = "journey-"+j.code, "旅程 "+j.code, j.codeFace()
	if _, err := a.Store.CreateCampaign(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	code = "JOURNEY-" + strings.ToUpper(j.code) + "-0001"
	if err := a.Store.AddCodes(ctx, "test", c.ID, []string{code}); err != nil {
		t.Fatal(err)
	}
	return code
}

// addMethod adds the journey's payment method from the rendered 新增付款方式
// page, through the provider's own pages, and returns the page the app
// sends the admin back to.
func addMethod(t *testing.T, a app, u httpUser, newMethod htmlPage, kind billing.PaymentKind) htmlPage {
	t.Helper()
	ctx := context.Background()
	out := newMethod.submit(t, u, `[data-testid="method-next"]`, url.Values{"kind": {string(kind)}})
	if out.Status != http.StatusSeeOther {
		t.Fatalf("add %s: %d\n%s", kind, out.Status, out.text())
	}
	var back *url.URL
	switch kind {
	case billing.LinePay:
		u, err := sandboxtest.ApproveLinePay(ctx, http.DefaultClient, out.URL.String(), linepay.CardCathayVisa)
		if err != nil {
			t.Fatal(err)
		}
		back = u
	default:
		p, err := sandboxtest.EnterCard(ctx, http.DefaultClient, out.URL.String(),
			sandboxtest.Card{Number: "4242424242424242", Expiry: "12/30", CVC: "123", Name: "LIN ALICE"})
		if err != nil || p.Location == nil {
			t.Fatalf("enter the card: %v %s", err, p.Body)
		}
		back = p.Location
	}
	return follow(t, u, open(t, u, back.String()))
}

var chargePath = regexp.MustCompile(`/charges/(\d+)`)

// buy walks journey j from the plan page to the result page and returns the
// result page and the charge's id.
func buy(t *testing.T, a app, u httpUser, j journey, code string) (htmlPage, int64) {
	t.Helper()
	acct := j.account()
	base := a.URL + "/a/" + acct
	plan := open(t, u, base+"/plan")
	checkout := follow(t, u, open(t, u, plan.link(t, "upgrade-"+string(j.to))))
	if checkout.Status != http.StatusOK {
		t.Fatalf("checkout: %d\n%s", checkout.Status, checkout.text())
	}
	if j.first {
		// 1. 電子發票資訊, from the checkout's own link, back to the checkout.
		inv := follow(t, u, open(t, u, checkout.link(t, "set-einvoice")))
		checkout = follow(t, u, inv.submit(t, u, `[data-testid="save-einvoice"]`, url.Values{"kind": {"member"}, "email": {journeyEmail(j)}}))
		if !strings.Contains(checkout.URL.Path, "/checkout") || !checkout.has("add-method") {
			t.Fatalf("after the e-invoice details: %s, want the checkout asking for a method\n%s", checkout.URL, checkout.text())
		}
		if code != "" {
			// A code registered before the method: the page says what it
			// will offset once a method is added (the document: 務必確認費用被折抵).
			checkout = checkout.submit(t, u, `[data-testid="code-submit"]`, url.Values{"code": {code}})
			code = ""
			w := want[string(j.from)+"-"+string(j.to)+"/"+j.code]
			if got := checkout.testID("code-pending"); !strings.Contains(got, w.offset.Decimal()) {
				t.Fatalf("a code registered before a method: %q, want it to say it will offset %s\n%s", got, w.offset.Decimal(), checkout.text())
			}
		}
		// 2. 付款方式, through the provider, back to the checkout.
		newMethod := follow(t, u, open(t, u, checkout.link(t, "add-method")))
		checkout = addMethod(t, a, u, newMethod, j.pay)
		if !strings.Contains(checkout.URL.Path, "/checkout") || !checkout.has("main-method") {
			t.Fatalf("after adding %s: %s, want the checkout with the method\n%s", j.pay, checkout.URL, checkout.text())
		}
	}
	if code != "" {
		checkout = checkout.submit(t, u, `[data-testid="code-submit"]`, url.Values{"code": {code}})
	}
	if checkout.Status != http.StatusOK {
		t.Fatalf("checkout: %d\n%s", checkout.Status, checkout.text())
	}
	w := want[string(j.from)+"-"+string(j.to)+"/"+j.code]
	if got := checkout.testID("total"); got != w.total.Decimal() {
		t.Fatalf("checkout total %q, want %s\n%s", got, w.total.Decimal(), checkout.text())
	}
	done := checkout.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("purchase: %d, want 303\n%s", done.Status, done.text())
	}
	m := chargePath.FindStringSubmatch(done.URL.Path)
	if m == nil {
		t.Fatalf("purchase led to %s, not a charge", done.URL)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return follow(t, u, done), id
}

// TestPurchaseJourneys buys through every plan transition × LINE Pay or
// card × no code, a code used whole or in part × a first or a returning
// purchase, from the rendered forms over HTTP, and checks each journey end
// to end: the charge paid at the billing core's total, the plan changed,
// the result page, the receipt e-mail in Mailpit, the receipt link and the
// row in 付款記錄.
func TestPurchaseJourneys(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t)
	smtp, err := mail.NewSMTP(mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range journeys() {
		t.Run(j.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := newApp(t)
			acct := j.account()
			code := prepare(t, a, j)
			u := httpSignIn(t, a.URL, "alice", nil)
			w := want[string(j.from)+"-"+string(j.to)+"/"+j.code]

			result, id := buy(t, a, u, j, code)

			// The charge: paid, at the billing core's total and lines.
			ch, err := a.Store.FindChargeByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Status != billing.StatusPaid || ch.Total != w.total || ch.Offset != w.offset || ch.Forfeited != w.forfeited ||
				ch.FromPlan != j.from || ch.Plan != j.to {
				t.Fatalf("charge %+v, want paid %s → %s: total %d, offset %d, forfeited %d", ch, j.from, j.to, w.total, w.offset, w.forfeited)
			}
			if string(ch.PaymentKind) != string(j.pay) && ch.Total > 0 {
				t.Errorf("paid by %q, want %q", ch.PaymentKind, j.pay)
			}
			// The plan changed, and the account owes nothing more this month.
			o, err := a.Store.FindOverview(ctx, acct)
			if err != nil || o.Plan.ID != j.to {
				t.Fatalf("plan %s (%v), want %s", o.Plan.ID, err, j.to)
			}
			if q, err := a.Store.Quote(ctx, acct, billing.KindRenewal, ""); err != nil || q.Plan != j.to {
				t.Errorf("next renewal %+v (%v), want %s", q, err, j.to)
			}

			// The result page: what was bought, the total, when it renews.
			if result.Status != http.StatusOK || result.testID("result-title") == "" || result.testID("line-total") != w.total.Decimal() {
				t.Fatalf("result page %d: title %q, total %q, want %s\n%s", result.Status, result.testID("result-title"), result.testID("line-total"), w.total.Decimal(), result.text())
			}
			if got := result.testID("renewal-notice"); !strings.Contains(got, "自動續約") || !strings.Contains(got, "22:59") {
				t.Errorf("result page renewal notice %q", got)
			}

			// The receipt e-mail names the total and links to the charge.
			wk := &mail.Worker{Store: a.Store, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: a.URL}
			if _, err := wk.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var got *mailpittest.Message
			for _, m := range mp.Messages(t) {
				if len(m.To) > 0 && m.To[0].Address == journeyEmail(j) {
					got = &m
				}
			}
			if got == nil {
				t.Fatalf("no mail to %s", journeyEmail(j))
			}
			if !strings.Contains(got.Subject+got.Text, strings.TrimSuffix(w.total.Decimal(), ".00")) {
				t.Errorf("mail %q does not name the total %s\n%s", got.Subject, w.total.Decimal(), got.Text)
			}
			link := regexp.MustCompile(regexp.QuoteMeta(a.URL) + `/a/` + acct + `/charges/` + strconv.FormatInt(id, 10) + `[^"\s]*`).FindString(got.HTML)
			if link == "" {
				t.Fatalf("the mail links to no charge page\n%s", got.HTML)
			}
			if p := follow(t, u, open(t, u, link)); p.Status != http.StatusOK || !strings.Contains(p.Body, w.total.Decimal()) {
				t.Errorf("the mail's link %s: %d", link, p.Status)
			}

			// The receipt and 付款記錄.
			rec := open(t, u, a.URL+"/a/"+acct+"/charges/"+strconv.FormatInt(id, 10)+"/receipt")
			if rec.Status != http.StatusOK || !strings.Contains(rec.Body, w.total.Decimal()) {
				t.Errorf("receipt: %d\n%s", rec.Status, rec.text())
			}
			hist := open(t, u, a.URL+"/a/"+acct+"/history")
			row := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(id, 10) + `"]`)
			if row.Length() == 0 || !strings.Contains(row.Text(), w.total.Decimal()) || row.Find(`[data-testid="receipt-link"]`).Length() == 0 {
				t.Errorf("付款記錄 has no row for charge %d with %s and its receipt\n%s", id, w.total.Decimal(), hist.text())
			}
		})
	}
}
