package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/sim"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
)

type fixture struct {
	s    *db.Store
	clk  *billingtest.Clock
	prov *sim.Provider
	mp   mailpittest.Mailpit
	w    *mail.Worker
	ctx  context.Context
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d, _ := dbtest.New(t)
	f := fixture{clk: billingtest.NewClock(time.Date(2024, 6, 11, 10, 0, 0, 0, billing.Taipei)), prov: sim.NewProvider(), mp: mailpittest.Start(t), ctx: context.Background()}
	f.s = db.New(d, f.clk, f.prov)
	smtp, err := mail.NewSMTP(f.mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	f.w = &mail.Worker{Store: f.s, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: "https://webstore.test"}
	return f
}

// account makes an account paying by card with an e-invoice e-mail address.
func (f fixture) account(t *testing.T, id string, plan billing.PlanID) {
	t.Helper()
	if err := f.s.CreateAccount(f.ctx, "test", db.NewAccount{ID: id, Name: id + " 商店", Region: "TW", Plan: plan, PaidMonth: billing.MonthOf(f.clk.Now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: id, Kind: billing.CreditCard, Token: "tok"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", id, billing.InvoiceDetails{Kind: billing.InvoiceCitizenCertificate,
		Carrier: "AB12345678901234", Email: id + "@shop.test"}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) send(t *testing.T) int {
	t.Helper()
	n, err := f.w.RunOnce(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A paid upgrade sends a receipt naming its lines, total and e-invoice
// number to the e-invoice address, once however often the worker runs.
func TestReceipt(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	ch, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k"})
	if err != nil || ch.Status != billing.StatusPaid {
		t.Fatalf("upgrade: %+v %v", ch, err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	f.send(t)
	ms := f.mp.Messages(t)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	m := ms[0]
	if m.To[0].Address != "bear@shop.test" || m.Subject != "【bear 商店】付款收據 NT$840.00" || !strings.Contains(m.Text, ch.Invoice) ||
		!strings.Contains(m.Text, "NT$800.00") || !strings.Contains(m.Text, "NT$40.00") || !strings.Contains(m.HTML, "NT$840.00") ||
		!strings.Contains(m.HTML, "/a/bear/charges/") || m.MessageID == "" {
		t.Errorf("receipt %s\n%s", m.Subject, m.Text)
	}
}

// campaign makes the document's campaign (NT$800, June 2024) with one code
// and registers it to account.
func (f fixture) campaign(t *testing.T, account, code string) {
	t.Helper()
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "summer-2024", Name: "夏季優惠", FaceValue: 800,
		ValidFrom: time.Date(2024, 6, 7, 0, 0, 0, 0, billing.Taipei), ValidUntil: time.Date(2024, 6, 30, 22, 59, 59, 0, billing.Taipei)}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddCodes(f.ctx, "test", "summer-2024", []string{code}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RegisterCode(f.ctx, "test", account, code); err != nil {
		t.Fatal(err)
	}
}

// An upgrade a code pays in full charges NT$0: its message confirms the
// change (方案變更確認) and is no 付款收據 (no payment, no e-invoice).
func TestZeroPurchaseIsAConfirmation(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	f.campaign(t, "bear", "BEAR-0001")
	ch, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k"})
	if err != nil || ch.Status != billing.StatusPaid || ch.Total != 0 {
		t.Fatalf("upgrade: %+v %v, want paid at NT$0", ch, err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	m := f.mp.Messages(t)[0]
	if m.Subject != "【bear 商店】方案變更確認" {
		t.Errorf("subject %q, want 【bear 商店】方案變更確認", m.Subject)
	}
	for _, want := range []string{"中用量", "BEAR-0001", "-NT$800.00", "NT$0.00", "無須付款", "/a/bear/charges/"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the confirmation does not say %q:\n%s", want, m.Text)
		}
	}
	for _, bad := range []string{"收據", "付款收據", "電子發票號碼"} {
		if strings.Contains(m.Subject+m.Text+m.HTML, bad) {
			t.Errorf("the confirmation says %q:\n%s", bad, m.Text)
		}
	}
}

// A failed upgrade is a purchase that did not happen: its message offers
// 重新購買 (the checkout for that plan), never 立即付款, and trying the
// same purchase again and again sends one message, not one per try.
func TestFailedUpgradeOffersBuyAgainOnce(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	f.prov.SetOutcome("bear", sim.OutcomeInsufficientFunds)
	for _, key := range []string{"try-1", "try-2", "try-3"} {
		if _, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: key}); billing.ErrorCode(err) != billing.EPaymentFailed {
			t.Fatalf("%s: %v, want payment_failed", key, err)
		}
	}
	f.send(t)
	f.send(t)
	ms := f.mp.Messages(t)
	if len(ms) != 1 {
		t.Fatalf("%d messages for one purchase tried three times, want 1", len(ms))
	}
	m := ms[0]
	if !strings.HasPrefix(m.Subject, "【bear 商店】") || !strings.Contains(m.Subject, "NT$1,260.00") {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "重新購買: https://webstore.test/a/bear/checkout?plan=high") || !strings.Contains(m.HTML, `href="https://webstore.test/a/bear/checkout?plan=high"`) ||
		!strings.Contains(m.Text, "額度不足") || !strings.Contains(m.Text, "高用量") {
		t.Errorf("the message does not offer 重新購買 of high:\n%s", m.Text)
	}
	if strings.Contains(m.Text+m.HTML, "立即付款") || strings.Contains(m.Text, "/charges/") {
		t.Errorf("the message offers to pay a purchase that cannot be paid:\n%s", m.Text)
	}
	// Another purchase (medium, after the refusals) that fails is a message
	// of its own.
	if _, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "try-4"}); billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("medium: %v", err)
	}
	if n := f.send(t); n != 1 {
		t.Errorf("sent %d for a failed purchase of another plan, want 1", n)
	}
}

// A refused payment sends the reason, the next automatic retry and a
// pay-now link; an account without an e-invoice address gets nothing.
func TestPaymentFailed(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Medium)
	if err := f.s.CreateAccount(f.ctx, "test", db.NewAccount{ID: "mute", Region: "TW", Plan: billing.Medium, PaidMonth: billing.MonthOf(f.clk.Now())}); err != nil {
		t.Fatal(err)
	}
	f.prov.SetOutcome("bear", sim.OutcomeInsufficientFunds)
	july := time.Date(2024, 7, 1, 9, 0, 0, 0, billing.Taipei)
	f.clk.Set(july)
	if err := f.s.ClaimRenewalRun(f.ctx, "system", billing.MonthOf(july)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RunRenewal(f.ctx, "system", billing.MonthOf(july), true); err != nil {
		t.Fatal(err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d, want 1 (mute has no address)", n)
	}
	m := f.mp.Messages(t)[0]
	if m.Subject != "【bear 商店】付款失敗 NT$840.00" || !strings.Contains(m.Text, "額度不足") || !strings.Contains(m.Text, "2024/07/02 09:00") ||
		!strings.Contains(m.Text, "立即付款") || !strings.Contains(m.Text, "/a/bear/charges/") {
		t.Errorf("failed-payment message: %s\n%s", m.Subject, m.Text)
	}
}

// Three days before the month ends each paying account is reminded of its
// renewal (plan, amount, the 1st); seven days before a code's window
// closes its holder is reminded of it; each once.
func TestReminders(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.High)
	f.account(t, "cat", billing.Light)
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "summer-2024", FaceValue: 800,
		ValidFrom: time.Date(2024, 6, 7, 0, 0, 0, 0, billing.Taipei), ValidUntil: time.Date(2024, 6, 30, 22, 59, 59, 0, billing.Taipei)}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddCodes(f.ctx, "test", "summer-2024", []string{"CAT-0001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RegisterCode(f.ctx, "test", "cat", "CAT-0001"); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(time.Date(2024, 6, 20, 2, 0, 0, 0, billing.JST)) // ten days before the code's window closes
	if n, err := f.s.QueueReminders(f.ctx); err != nil || n != 0 {
		t.Fatalf("queued %d (%v) on 6/20, want none", n, err)
	}
	f.clk.Set(time.Date(2024, 6, 28, 2, 0, 0, 0, billing.JST)) // the month ends in under three days
	for range 2 {
		if n, err := f.s.QueueReminders(f.ctx); err != nil {
			t.Fatal(err)
		} else if f.send(t); n > 2 {
			t.Fatalf("queued %d", n)
		}
	}
	ms := f.mp.Messages(t)
	if len(ms) != 2 {
		t.Fatalf("%d messages, want 2 (bear's renewal, cat's code)", len(ms))
	}
	var renewal, code mailpittest.Message
	for _, m := range ms {
		switch m.To[0].Address {
		case "bear@shop.test":
			renewal = m
		case "cat@shop.test":
			code = m
		}
	}
	if !strings.Contains(renewal.Subject, "2024/07/01") || !strings.Contains(renewal.Text, "NT$1,260.00") || !strings.HasPrefix(renewal.Subject, "【bear 商店】") || !strings.Contains(renewal.Text, "下個月1日") {
		t.Errorf("renewal reminder: %s\n%s", renewal.Subject, renewal.Text)
	}
	if !strings.Contains(code.Subject, "CAT-0001") || !strings.Contains(code.Text, "2024/06/30 22:59") {
		t.Errorf("code reminder: %s\n%s", code.Subject, code.Text)
	}
}

// A worker that dies holding messages leaves them to the next one once its
// lease ends; an SMTP server that refuses a message has it tried again
// later. Either way each message arrives once.
func TestKilledWorkerAndRefusingServer(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	if _, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k"}); err != nil {
		t.Fatal(err)
	}
	// A worker claims the receipt and dies before sending it.
	if ms, err := f.s.ClaimMail(f.ctx, 10, 2*time.Minute); err != nil || len(ms) != 1 {
		t.Fatalf("claim: %d, %v", len(ms), err)
	}
	if n := f.send(t); n != 0 {
		t.Fatalf("sent %d while another worker holds it", n)
	}
	f.clk.Set(f.clk.Now().Add(2 * time.Minute))
	// The server is down: the attempt fails and is rescheduled.
	down := *f.w
	down.Sender, _ = mail.NewSMTP("smtp://" + mailpittest.FreeAddr(t))
	if n, err := down.RunOnce(f.ctx); err != nil || n != 0 {
		t.Fatalf("sent %d (%v) to a server that is down", n, err)
	}
	if n := f.send(t); n != 0 {
		t.Fatalf("sent %d before the retry is due", n)
	}
	f.clk.Set(f.clk.Now().Add(10 * time.Minute))
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d once due again, want 1", n)
	}
	f.send(t)
	if ms := f.mp.Messages(t); len(ms) != 1 {
		t.Errorf("%d messages arrived, want 1", len(ms))
	}
	var attempts int
	if err := f.s.DB.Get(&attempts, `SELECT attempts FROM outbox`); err != nil || attempts != 3 {
		t.Errorf("attempts %d (%v), want 3 (dead worker, server down, sent)", attempts, err)
	}
}

// An invitation with an address sends its one-time link there, once; the
// link is scrubbed from the outbox once sent, and a bad address is refused
// with nothing created.
func TestInvitation(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	if _, err := f.s.DB.Exec(`INSERT INTO users (login, display_name, password_hash, created_at) VALUES ('ann', 'Ann 王', 'x', now())`); err != nil {
		t.Fatal(err)
	}
	var ann int64
	if err := f.s.DB.Get(&ann, `SELECT id FROM users WHERE login='ann'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.DB.Exec(`INSERT INTO memberships (account_id, user_id, role, created_at) VALUES ('bear', $1, 'admin', now())`, ann); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.InviteByMail(f.ctx, "user:ann", "bear", billing.RoleOperator, ann, "not an address", "https://webstore.test/invite/"); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("bad address: %v, want invalid_input", err)
	}
	tok, _, err := f.s.InviteByMail(f.ctx, "user:ann", "bear", billing.RoleOperator, ann, "new.member@shop.test", "https://webstore.test/invite/")
	if err != nil {
		t.Fatal(err)
	}
	if n := f.send(t); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	m := f.mp.Messages(t)[0]
	if m.To[0].Address != "new.member@shop.test" || m.Subject != "【bear 商店】邀請您加入官方帳號" || !strings.Contains(m.Text, "https://webstore.test/invite/"+tok) {
		t.Errorf("invitation: %s\n%s", m.Subject, m.Text)
	}
	var left int
	if err := f.s.DB.Get(&left, `SELECT count(*) FROM outbox WHERE params::text LIKE '%' || $1 || '%'`, tok); err != nil || left != 0 {
		t.Errorf("the token is still in the outbox (%d rows, %v)", left, err)
	}
	var invitations int
	if err := f.s.DB.Get(&invitations, `SELECT count(*) FROM invitations`); err != nil || invitations != 1 {
		t.Errorf("%d invitations (%v), want 1 (the refused one made none)", invitations, err)
	}
	// The person invited is no user yet: the invitation goes in the
	// language its sender chose.
	if err := f.s.SetUserLang(f.ctx, ann, "en"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetUserLang(f.ctx, ann, "fr"); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("language fr: %v, want invalid_input", err)
	}
	if _, _, err := f.s.InviteByMail(f.ctx, "user:ann", "bear", billing.RoleOperator, ann, "other@shop.test", "https://webstore.test/invite/"); err != nil {
		t.Fatal(err)
	}
	f.send(t)
	if m := f.mp.Messages(t)[0]; m.Subject != "[bear 商店] You are invited to join the official account" || !strings.Contains(m.Text, "The link works once") {
		t.Errorf("invitation from a user who reads English: %s\n%s", m.Subject, m.Text)
	}
}

// The e-invoice address is read by the user who gave it: a failed
// payment's message goes in that user's language, reason included, and
// follows the user's later switch back to 中文.
func TestFailedPaymentInTheReadersLanguage(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light)
	var ann int64
	if err := f.s.DB.Get(&ann, `INSERT INTO users (login, display_name, password_hash, created_at) VALUES ('ann', 'Ann 王', 'x', now()) RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetUserLang(f.ctx, ann, "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "user:ann", "bear", billing.InvoiceDetails{Kind: billing.InvoiceCitizenCertificate,
		Carrier: "AB12345678901234", Email: "ann@shop.test"}); err != nil {
		t.Fatal(err)
	}
	f.prov.SetOutcome("bear", sim.OutcomeInsufficientFunds)
	if _, err := f.s.Upgrade(f.ctx, "user:ann", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k1"}); billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("upgrade: %v", err)
	}
	f.send(t)
	m := f.mp.Messages(t)[0]
	if m.To[0].Address != "ann@shop.test" || m.Subject != "[bear 商店] Purchase not completed: payment failed NT$840.00" ||
		!strings.Contains(m.Text, "Reason: Insufficient funds.") || !strings.Contains(m.Text, "Buy again: https://webstore.test/a/bear/checkout?plan=medium") {
		t.Errorf("in English: %s\n%s", m.Subject, m.Text)
	}
	if err := f.s.SetUserLang(f.ctx, ann, "zh-TW"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Upgrade(f.ctx, "user:ann", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k2"}); billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("upgrade: %v", err)
	}
	f.send(t)
	if m := f.mp.Messages(t)[0]; !strings.HasPrefix(m.Subject, "【bear 商店】購買未完成") || !strings.Contains(m.Text, "原因:卡片額度不足") {
		t.Errorf("after switching back: %s\n%s", m.Subject, m.Text)
	}
}
