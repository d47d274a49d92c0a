// Package mail sends the outbox (db/outbox.go) over SMTP: receipts,
// failed-payment alerts, renewal and code-expiry reminders. Messages are
// written to the outbox in the same transaction as the event that causes
// them; the Worker claims them, renders them (views.MailHTML and
// views.MailText, zh-TW or English) and sends each once, retrying later if
// the SMTP server does not take it.
package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m *gomail.Msg) error
}

// SMTP is a Sender over an SMTP server named by a URL:
// smtp://[user:password@]host:port (plain, or STARTTLS when offered) or
// smtps://… (TLS from the start).
type SMTP struct {
	client *gomail.Client
}

// NewSMTP parses the SMTP_URL setting.
func NewSMTP(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP_URL: want smtp://host:port or smtps://user:password@host:port, got %q", rawURL)
	}
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	port := 25
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	return &SMTP{client: c}, nil
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m *gomail.Msg) error {
	return s.client.DialAndSendWithContext(ctx, m)
}

// Worker sends the outbox.
type Worker struct {
	Store   *db.Store
	Sender  Sender
	From    string // e.g. "LINE官方帳號 <no-reply@example.com>"
	BaseURL string // where links in messages point, e.g. https://webstore.example
	// Lease is how long a claimed message is held (a worker that dies
	// holding it leaves it to another after that).
	Lease time.Duration
}

// Run sends whatever is due every interval until ctx ends, finishing the
// message in hand.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			slog.Error("mail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce sends the messages due now, up to a batch, and returns how many
// were sent.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	lease := w.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	ms, err := w.Store.ClaimMail(ctx, 20, lease)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, m := range ms {
		if ctx.Err() != nil {
			break
		}
		msg, err := w.message(ctx, m)
		if err == nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			err = w.Sender.Send(sctx, msg)
			cancel()
		}
		if err != nil {
			// Tried again later, waiting longer each time (at most an hour).
			wait := min(time.Duration(m.Attempts*m.Attempts)*time.Minute, time.Hour)
			if ferr := w.Store.MarkMailFailed(context.WithoutCancel(ctx), m.ID, err.Error(), w.Store.Clock.Now().Add(wait)); ferr != nil {
				return sent, errors.Join(err, ferr)
			}
			slog.Warn("mail not sent", "id", m.ID, "kind", m.Kind, "attempt", m.Attempts, "err", err)
			continue
		}
		if err := w.Store.MarkMailSent(context.WithoutCancel(ctx), m.ID); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// message renders an outbox row as a message with a plain-text part and an
// HTML alternative. Its Message-ID is the row's, so a copy sent again after
// a crash is recognisably the same message.
func (w *Worker) message(ctx context.Context, m db.Mail) (*gomail.Msg, error) {
	v, err := w.view(ctx, m)
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := views.MailHTML(v).Render(ctx, &html); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(w.From); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", w.From, err)
	}
	if err := msg.To(m.Recipient); err != nil {
		return nil, fmt.Errorf("mail to %q: %w", m.Recipient, err)
	}
	msg.Subject(v.Subject)
	msg.SetMessageIDWithValue(fmt.Sprintf("outbox-%d@webstore", m.ID))
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetBodyString(gomail.TypeTextPlain, views.MailText(v))
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// view shapes an outbox row into the message's model.
func (w *Worker) view(ctx context.Context, m db.Mail) (views.MailView, error) {
	l := views.Lang(m.Lang)
	var p db.MailParams
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return views.MailView{}, err
	}
	name, err := w.Store.AccountName(ctx, m.AccountID)
	if err != nil {
		return views.MailView{}, err
	}
	v := views.MailView{Lang: l, Account: name}
	acct := w.BaseURL + "/a/" + url.PathEscape(m.AccountID)
	switch m.Kind {
	case db.MailReceipt, db.MailPaymentFailed:
		ch, err := w.Store.FindChargeByID(ctx, p.ChargeID)
		if err != nil {
			return v, err
		}
		cat, err := w.Store.Catalog(ctx)
		if err != nil {
			return v, err
		}
		v.Lines = chargeLines(l, cat, ch)
		v.Total = [2]string{l.T("總計", "Total"), ch.Total.Decimal()}
		chargeURL := acct + "/charges/" + strconv.FormatInt(ch.ID, 10)
		if p.Failure != "" || p.Detail != "" {
			// The refusal this message is about, in its reader's language.
			p.Reason = db.Charge{Failure: p.Failure, FailureDetail: p.Detail}.ReasonIn(string(l))
		}
		switch {
		case m.Kind == db.MailReceipt && ch.Total == 0:
			// Nothing was paid (a code offset it all): no payment, no
			// e-invoice, so no receipt; the change is confirmed.
			plan := l.PlanNameByID(cat, ch.Plan)
			why := l.T("本次無須付款,不開立發票。", "Nothing was charged and no e-invoice was issued.")
			if ch.Offset > 0 {
				why = l.Tf("優惠活動代碼 %s 已折抵全額,", "Promo code %s covered the whole amount: ", ch.CodeDisplay) + why
			}
			if ch.Kind == billing.KindUpgrade {
				v.Subject = l.T("方案變更確認", "Plan change confirmed")
				v.Intro = l.Tf("您的方案已變更為「%s」。", "Your plan is now %s. ", plan) + why
			} else {
				v.Subject = l.T("續約確認", "Renewal confirmed")
				v.Intro = l.Tf("您的「%s」方案已續約(%s)。", "Your %s plan is renewed for %s. ", plan, ch.Month().String()) + why
			}
			v.Link, v.LinkText = chargeURL, l.T("查看明細", "View the details")
		case m.Kind == db.MailReceipt:
			v.Subject = l.Tf("付款收據 %s", "Receipt %s", ch.Total.Decimal())
			v.Intro = l.T("我們已收到您的付款,謝謝。", "We have received your payment, thank you. ")
			inv, err := w.Store.InvoiceOf(ctx, ch.ID)
			switch {
			case err == nil && inv.Number != "":
				v.Intro += l.Tf("電子發票號碼:%s(開立日期 %s,隨機碼 %s)。", "E-invoice number: %s (dated %s, random number %s).",
					inv.Number, views.TWDate(inv.At), inv.RandomNumber)
			case err == nil || errors.Is(err, db.ErrNoInvoice):
				v.Intro += l.T("電子發票將於配號後開立,屆時可在付款記錄查看。", "The e-invoice is issued once it has its number; the payment history will show it.")
			default:
				return v, err
			}
			v.Link, v.LinkText = chargeURL+"/receipt", l.T("查看收據", "View the receipt")
		case ch.Kind == billing.KindUpgrade:
			// A failed upgrade is a purchase that did not happen
			// (billing.Owed): there is nothing to pay later, only the
			// plan to buy again.
			v.Subject = l.Tf("購買未完成:付款失敗 %s", "Purchase not completed: payment failed %s", ch.Total.Decimal())
			v.Intro = l.Tf("升級為「%s」的付款未能完成,方案未變更,也未向您收取任何費用。原因:%s", "The payment for the upgrade to %s did not go through: your plan is unchanged and nothing was charged. Reason: %s",
				l.PlanNameByID(cat, ch.Plan), p.Reason)
			v.Note = l.T("若仍要升級,請確認付款方式後重新購買。", "To upgrade, check your payment method and buy again.")
			v.Link, v.LinkText = acct+"/checkout?plan="+url.QueryEscape(string(ch.Plan)), l.T("重新購買", "Buy again")
		default:
			v.Subject = l.Tf("付款失敗 %s", "Payment failed %s", ch.Total.Decimal())
			v.Intro = l.Tf("這筆款項未能扣款成功,未向您收取任何費用。原因:%s", "This payment did not go through and nothing was charged. Reason: %s", p.Reason)
			switch {
			case p.GiveUp:
				v.Note = l.T("續約付款已多次失敗,方案已改為輕用量。您可隨時重新升級。", "The renewal failed repeatedly, so the plan has moved to Light. You can upgrade again at any time.")
			case !p.NextRetry.IsZero():
				v.Note = l.Tf("我們將於 %s(台灣時間)自動重試;付款失敗 %d 次或月份結束仍未付款時,方案將改為輕用量。",
					"We will try again automatically at %s (Taiwan time); after %d failed attempts, or if the month ends unpaid, the plan moves to Light.",
					views.TWTime(p.NextRetry), billing.MaxAttempts)
			}
			if !p.GiveUp {
				v.Link, v.LinkText = chargeURL, l.T("立即付款", "Pay now")
			}
		}
	case db.MailRenewalReminder:
		m, err := billing.ParseMonth(p.Month)
		if err != nil {
			return v, err
		}
		cat, err := w.Store.Catalog(ctx)
		if err != nil {
			return v, err
		}
		plan := l.PlanNameByID(cat, billing.PlanID(p.Plan))
		first := m.Start().In(billing.JST).Format("2006/01/02") // the 1st; it starts at 23:00 the evening before in Taiwan
		v.Subject = l.Tf("方案將於 %s 自動續約", "Your plan renews on %s", first)
		v.Intro = l.Tf("您的「%s」方案將於下個月1日(%s)自動續約(台灣時間前一日 23:00 起)。", "Your %s plan renews automatically on the 1st of next month (%s; from 23:00 the day before, Taiwan time).",
			plan, first)
		v.Lines = [][2]string{{l.T("方案", "Plan"), plan}, {l.T("月份", "Month"), p.Month}}
		v.Total = [2]string{l.T("預計扣款(含稅)", "To be charged (tax included)"), billing.Money(p.Total).Decimal()}
		v.Note = l.T("若要取消自動續約,請於本月最後一天 22:59(台灣時間)前降級為輕用量。", "To cancel the renewal, downgrade to Light before 22:59 (Taiwan time) on the last day of this month.")
		v.Link, v.LinkText = acct+"/plan", l.T("查看方案", "View the plan")
	case db.MailCodeExpiry:
		v.Subject = l.Tf("優惠活動代碼 %s 即將到期", "Promo code %s expires soon", p.Code)
		v.Intro = l.Tf("您登錄的優惠活動代碼 %s 尚未使用,將於 %s(台灣時間)到期,到期後無法再折抵。", "Your registered promo code %s has not been used and expires at %s (Taiwan time); after that it offsets nothing.",
			p.Code, views.TWTime(p.Until))
		v.Note = l.T("升級方案即可立即使用代碼折抵;若本月已付款,代碼將折抵下個月的月費。", "Upgrade to use it now; if this month is already paid, it offsets next month's fee.")
		v.Link, v.LinkText = acct+"/plan", l.T("查看方案", "View the plan")
	case db.MailInvitation:
		if p.Link == "" {
			return v, fmt.Errorf("outbox %d: the invitation's link is gone", m.ID)
		}
		v.Greeting = l.T("您好:", "Hello,")
		v.Subject = l.T("邀請您加入官方帳號", "You are invited to join the official account")
		v.Intro = l.Tf("您受邀以「%s」的權限加入 LINE 官方帳號「%s」。", "You are invited to join the LINE Official Account %[2]s as %[1]s.",
			l.RoleLabel(billing.Role(p.Role)), name)
		v.Note = l.Tf("此連結只能使用一次,有效期限至 %s(台灣時間)。", "The link works once, until %s (Taiwan time).", views.TWTime(p.Until))
		v.Link, v.LinkText = p.Link, l.T("接受邀請", "Accept the invitation")
	case db.MailRefund:
		if err := w.refundView(ctx, &v, p, acct); err != nil {
			return v, err
		}
	case db.MailAllowanceAsk:
		if p.Link == "" {
			return v, fmt.Errorf("outbox %d: the allowance's link is gone", m.ID)
		}
		al, err := w.Store.AllowanceOfRefund(ctx, p.RefundID)
		if err != nil {
			return v, err
		}
		v.Subject = l.T("請同意電子發票折讓", "Please agree to an e-invoice allowance")
		v.Intro = l.Tf("我們已退還 %s 給您。依電子發票規定,退款須開立折讓單沖減原發票 %s 的金額,並須經您同意。", "We refunded %s to you. Under the e-invoice rules, a refund needs an allowance against the original invoice %s, with your agreement.",
			billing.Money(p.Total).Decimal(), al.Invoice)
		v.Lines = [][2]string{{l.T("發票號碼", "Invoice"), al.Invoice}, {l.T("折讓單號", "Allowance"), al.Number}}
		v.Total = [2]string{l.T("折讓金額(含稅)", "Allowance (tax included)"), billing.Money(p.Total).Decimal()}
		v.Note = l.Tf("此連結有效期限至 %s(台灣時間)。退款已完成,不受是否同意影響。", "The link works until %s (Taiwan time). The refund is done either way.", views.TWTime(p.Until))
		v.Link, v.LinkText = w.BaseURL+p.Link, l.T("同意折讓", "Agree to the allowance")
	default:
		return v, fmt.Errorf("outbox %d: unknown kind %q", m.ID, m.Kind)
	}
	// An admin of several accounts tells at a glance which one a message
	// is about.
	v.Subject = l.Tf("【%s】", "[%s] ", name) + v.Subject
	return v, nil
}

// chargeLines are a charge's lines as a receipt lists them.
func chargeLines(l views.Lang, cat billing.Catalog, c db.Charge) [][2]string {
	var out [][2]string
	switch c.Kind {
	case billing.KindUpgrade:
		out = append(out, [2]string{l.Tf("差額(%s → %s)", "Difference (%s → %s)", l.PlanNameByID(cat, c.FromPlan), l.PlanNameByID(cat, c.Plan)), c.Amount.Decimal()})
	case billing.KindUsage:
		out = append(out, [2]string{l.Tf("加購訊息費用(%s)", "Additional messages (%s)", c.Month().String()), c.Amount.Decimal()})
	default:
		out = append(out, [2]string{l.Tf("月費(%s,%s)", "Monthly fee (%s, %s)", l.PlanNameByID(cat, c.Plan), c.Month().String()), c.Amount.Decimal()})
	}
	if c.Offset > 0 {
		out = append(out, [2]string{l.Tf("優惠活動代碼折抵 %s", "Promo code %s", c.CodeDisplay), "-" + c.Offset.Decimal()})
	}
	return append(out, [2]string{l.T("消費稅", "Tax"), c.Tax.Decimal()})
}

// refundView is a refund's notice: how much, of which charge, and what
// became of the charge's e-invoice.
func (w *Worker) refundView(ctx context.Context, v *views.MailView, p db.MailParams, acct string) error {
	l := v.Lang
	ch, err := w.Store.FindChargeByID(ctx, p.ChargeID)
	if err != nil {
		return err
	}
	cat, err := w.Store.Catalog(ctx)
	if err != nil {
		return err
	}
	amount := billing.Money(p.Total)
	v.Subject = l.Tf("退款通知 %s", "Refund %s", amount.Decimal())
	v.Intro = l.Tf("我們已將 %s 退回您付款時使用的付款方式,實際入帳時間依發卡銀行或付款服務而定。", "We refunded %s to the payment method you paid with; when it shows depends on your bank or payment service.", amount.Decimal())
	v.Lines = append(chargeLines(l, cat, ch), [2]string{l.T("原付款金額", "Paid"), ch.Total.Decimal()})
	v.Total = [2]string{l.T("本次退款", "Refunded now"), amount.Decimal()}
	rs, err := w.Store.RefundsOf(ctx, ch.ID)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ID == p.RefundID {
			v.Intro += l.Tf("退款原因:%s", " Reason: %s", r.Reason)
		}
	}
	al, err := w.Store.AllowanceOfRefund(ctx, p.RefundID)
	switch {
	case err == nil && al.Status == "issued":
		v.Note = l.Tf("電子發票 %s 已開立折讓單 %s,沖減 %s。", "An allowance (%[2]s) of %[3]s was issued against e-invoice %[1]s.", al.Invoice, al.Number, al.Total.Decimal())
	case err == nil:
		v.Note = l.Tf("電子發票 %s 須開立折讓單沖減 %s;我們另寄一封信,請您在信中的連結同意折讓。", "E-invoice %s needs an allowance of %s: a separate e-mail asks for your agreement through its link.", al.Invoice, al.Total.Decimal())
	case errors.Is(err, db.ErrNoAllowance):
		inv, err := w.Store.InvoiceOf(ctx, ch.ID)
		switch {
		case err == nil && inv.Status == "cancelled":
			v.Note = l.Tf("電子發票 %s 已作廢。", "E-invoice %s is cancelled.", inv.Number)
		case err != nil && !errors.Is(err, db.ErrNoInvoice):
			return err
		}
	default:
		return err
	}
	v.Link, v.LinkText = acct+"/charges/"+strconv.FormatInt(ch.ID, 10), l.T("查看付款明細", "View the charge")
	return nil
}
