package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// Refunds: the console's page of one charge with its refunds and the form
// to refund it, and the page an e-mailed link opens for an admin to agree
// to an allowance (折讓).

func chargeID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// chargePage is the frame of charge id's page, under 帳號查詢.
func chargePage(c echo.Context, id int64) views.StaffPage {
	p := staffPage(c, "accounts", "", "")
	p.Title = p.Lang.Tf("付款明細 #%d", "Charge #%d", id)
	return p
}

func (s *Server) staffCharge(c echo.Context) error {
	id, err := chargeID(c)
	if err != nil {
		return err
	}
	p := chargePage(c, id)
	v, err := s.staffChargeView(c, p.Lang, id)
	if err != nil {
		return err
	}
	if rid, err := strconv.ParseInt(c.QueryParam("refund"), 10, 64); err == nil {
		v.Outcome, v.OutcomeClass = refundOutcome(p.Lang, v.Refunds, rid)
	}
	return render(c, http.StatusOK, views.StaffCharge(p, v))
}

// staffRefund refunds a charge from the form. The form's key makes a
// second submission of it (a double-click, a refresh) answer with the
// first refund; a refusal changes nothing and shows the form again.
func (s *Server) staffRefund(c echo.Context) error {
	id, err := chargeID(c)
	if err != nil {
		return err
	}
	amount, err := refundAmount(c.FormValue("amount"))
	var r db.Refund
	if err == nil {
		r, err = s.store.Refund(c.Request().Context(), staffActor(c), db.RefundRequest{ChargeID: id, Amount: amount,
			Reason: c.FormValue("reason"), Key: c.FormValue("key")})
	}
	switch billing.ErrorCode(err) {
	case "", billing.EPaymentFailed, billing.EPaymentPending:
		if r.ID == 0 {
			if err == nil {
				err = errors.New("refund: no refund answered")
			}
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/staff/charges/"+strconv.FormatInt(id, 10)+"?refund="+strconv.FormatInt(r.ID, 10))
	case billing.EInvalid, billing.EConflict, billing.EKeyReused, billing.EUnknownAccount:
	default:
		return err
	}
	p := chargePage(c, id)
	p.Error = refundRefusal(p.Lang, err)
	v, verr := s.staffChargeView(c, p.Lang, id)
	if verr != nil {
		return verr
	}
	v.Amount, v.Reason = c.FormValue("amount"), c.FormValue("reason")
	return render(c, httpStatus(billing.ErrorCode(err)), views.StaffCharge(p, v))
}

// refundRefusal is why a refund was refused, in words; nothing was
// refunded.
func refundRefusal(l views.Lang, err error) string {
	switch billing.ErrorCode(err) {
	case billing.EKeyReused:
		return l.T("這份退款表單已送出過另一筆不同的退款,本次未退款。請確認下方的退款記錄,再重新填寫。",
			"This refund form was already sent for a different refund; nothing was refunded this time. Check the refunds below and fill the form again.")
	case billing.EConflict:
		return l.T("這筆付款已有一筆退款處理中,完成後才能再退款;本次未退款。", "A refund of this charge is still in progress; refund again once it is settled. Nothing was refunded this time.")
	}
	msg := l.Err(err)
	if l == views.ZH && !strings.Contains(msg, "未退款") {
		msg += "本次未退款。"
	}
	return msg
}

// refundAmount reads the form's amount: blank is all that is left (0),
// otherwise a whole number of NT$, commas allowed.
func refundAmount(s string) (billing.Money, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "NT$"))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		return 0, billing.Errorf(billing.EInvalid, "退款金額「%s」須為新台幣整數金額,例如 500;留空則退還全部可退款金額。", s)
	}
	if n <= 0 {
		return 0, billing.Errorf(billing.EInvalid, "退款金額須大於 0;留空則退還全部可退款金額。")
	}
	return billing.Money(n), nil
}

// refundOutcome says how refund rid of the page ended.
func refundOutcome(l views.Lang, rs []views.RefundRow, rid int64) (string, string) {
	for _, r := range rs {
		if r.ID != rid {
			continue
		}
		switch r.StatusClass {
		case "ok":
			return l.Tf("已退款 %s。", "Refunded %s.", r.Amount.String()), "notice"
		case "bad":
			return l.Tf("退款失敗,未退還任何款項。付款服務的回覆:%s", "The refund failed; nothing was given back. The provider said: %s", r.Detail), "error"
		default:
			return l.T("退款已送出,付款服務尚未回覆;系統會再次查詢並更新結果。", "The refund was sent and the provider has not answered yet; it is asked again and this page updated."), "notice"
		}
	}
	return "", ""
}

// staffChargeView reads one charge, its invoice and its refunds.
func (s *Server) staffChargeView(c echo.Context, l views.Lang, id int64) (views.StaffChargeView, error) {
	ctx := c.Request().Context()
	d, err := s.store.StaffChargePage(ctx, id)
	if err != nil {
		if billing.ErrorCode(err) != "" {
			return views.StaffChargeView{}, echo.ErrNotFound
		}
		return views.StaffChargeView{}, err
	}
	cat, err := s.store.Catalog(ctx)
	if err != nil {
		return views.StaffChargeView{}, err
	}
	ch, name, rs := d.Charge, d.AccountName, d.Refunds
	hasInvoice := d.EInvoice != nil
	var inv db.Invoice
	if hasInvoice {
		inv = *d.EInvoice
	}
	v := views.StaffChargeView{Charge: chargeRow(l, ch), Catalog: cat, AccountID: ch.AccountID, AccountName: name,
		PaidAt: timeOrZero(ch.PaidAt.NullTime), Key: db.NewToken()}
	pending := false
	tally := billing.RefundTally{Total: ch.Total}
	for _, r := range rs {
		tally.Add(r.Status, r.Amount)
		row := views.RefundRow{ID: r.ID, Amount: r.Amount, Reason: r.Reason, Who: l.AuditActor(r.RequestedBy), When: r.CreatedAt}
		if r.SettledAt != nil {
			row.Settled = *r.SettledAt
		}
		switch r.Status {
		case billing.RefundSucceeded:
			row.Status, row.StatusClass = l.T("已退款", "Refunded"), "ok"
			row.Detail = l.Tf("付款服務編號 %s", "provider reference %s", r.ProviderRef)
		case billing.RefundFailed:
			row.Status, row.StatusClass = l.T("退款失敗", "Failed"), "bad"
			row.Detail = r.FailureDetail
			if r.Failure == string(billing.RefundAlreadyRefunded) {
				row.Detail = l.T("付款服務表示這筆付款已退款", "The provider holds this payment as refunded already")
			}
			if row.Detail == "" {
				row.Detail = l.T("付款服務拒絕退款", "The provider refused the refund")
			}
		default:
			row.Status, row.StatusClass = l.T("處理中", "In progress"), "warn"
			row.Detail = l.T("付款服務尚未回覆,系統會再次查詢", "No answer yet; it is asked again")
			pending = true
		}
		v.Refunds = append(v.Refunds, row)
	}
	v.Refunded = tally.Refunded + tally.Pending
	if ch.Status == billing.StatusPaid {
		v.Left = tally.Left()
	}
	switch {
	case !hasInvoice && ch.Total == 0:
		v.Invoice = l.T("未開立(本次無須付款)", "None (nothing was charged)")
	case !hasInvoice:
		v.Invoice = l.T("付款後開立", "Issued once paid")
	case inv.Status == "waiting":
		v.Invoice = l.Tf("等待配號:%s 期的號碼已用完,匯入號碼後開立", "Waiting: period %s has no numbers left; issued once numbers are imported", inv.Period().String())
	case inv.Status == "cancelled":
		v.Invoice = l.Tf("%s 已作廢", "%s, cancelled", inv.Number)
		if inv.CancelledAt != nil {
			v.Invoice += l.Tf("(%s)", " (%s)", views.TWTime(*inv.CancelledAt))
		}
	default:
		v.Invoice = inv.Number
		if inv.Allowed > 0 {
			v.Invoice += l.Tf(",已折讓 %s", ", allowances %s", inv.Allowed.String())
		}
	}
	if hasInvoice && inv.Number != "" {
		v.InvoiceNumber, v.InvoiceDate, v.InvoiceRandom = inv.Number, inv.At, inv.RandomNumber
	}
	switch {
	case ch.Status != billing.StatusPaid:
		v.NotRefundable = l.T("只有已付款的款項可以退款。", "Only a paid charge can be refunded.")
	case v.Left <= 0 && ch.Total == 0:
		v.NotRefundable = l.T("這筆付款金額為 NT$0,沒有可退款的金額。", "Nothing was paid; there is nothing to refund.")
	case v.Left <= 0:
		v.NotRefundable = l.T("這筆付款已全額退款。", "This charge is fully refunded.")
	case pending:
		v.NotRefundable = l.T("有一筆退款處理中,完成後才能再退款。", "A refund is in progress; refund again once it is settled.")
	case hasInvoice && inv.Status == "waiting":
		v.NotRefundable = l.T("這筆付款的電子發票尚待配號,請先匯入發票號碼再退款。", "This charge's e-invoice waits for a number: import numbers first.")
	default:
		v.Refundable = true
	}
	return v, nil
}

// allowanceConsent is the e-mailed link's page: the allowance in words
// and a button to agree; once agreed, a confirmation.
func (s *Server) allowanceConsent(c echo.Context) error {
	tok := c.Param("token")
	al, err := s.store.FindAllowance(c.Request().Context(), tok)
	if err != nil {
		return s.allowanceRefused(c, err)
	}
	p := page(c, lang(c).T("同意電子發票折讓", "Agree to an e-invoice allowance"))
	return render(c, http.StatusOK, views.AllowanceConsent(p, allowanceConsentView(al, tok)))
}

// agreeAllowance records the admin's agreement, then shows the
// confirmation (POST-redirect-GET; agreeing twice changes nothing).
func (s *Server) agreeAllowance(c echo.Context) error {
	tok := c.Param("token")
	who := db.Actor("link")
	if _, ok := c.Get(ctxSession).(db.Session); ok {
		who = actor(c)
	}
	if _, err := s.store.AgreeAllowance(c.Request().Context(), who, tok); err != nil {
		return s.allowanceRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/einvoice/allowances/"+url.PathEscape(tok))
}

func allowanceConsentView(al db.Allowance, tok string) views.AllowanceConsentView {
	v := views.AllowanceConsentView{Valid: true, Token: tok, AccountName: al.AccountName, Invoice: al.Invoice, Total: al.Total,
		Agreed: al.Status == "issued"}
	if al.ConsentExpires != nil {
		v.Expires = *al.ConsentExpires
	}
	if al.AgreedAt != nil {
		v.AgreedAt = *al.AgreedAt
	}
	return v
}

// allowanceRefused explains a link that cannot be used: 404 for one that
// never was, 410 for one that expired.
func (s *Server) allowanceRefused(c echo.Context, err error) error {
	p := page(c, lang(c).T("同意電子發票折讓", "Agree to an e-invoice allowance"))
	status := http.StatusNotFound
	switch billing.ErrorCode(err) {
	case billing.EInvitationInvalid:
		p.Error = p.Lang.T("此連結無效。請確認您開啟的是通知信中的完整連結,或與客服聯絡。", "This link is not valid. Check that you opened the whole link from the e-mail, or contact us.")
	case billing.EInvitationExpired:
		status = http.StatusGone
		p.Error = p.Lang.T("此連結已過期(有效期限為 72 小時)。退款已完成,不受影響;如需開立折讓,請與客服聯絡。", "This link has expired (links last 72 hours). The refund is done and stays so; to have the allowance issued, contact us.")
	default:
		return err
	}
	return render(c, status, views.AllowanceConsent(p, views.AllowanceConsentView{}))
}
