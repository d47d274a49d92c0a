package linepay

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"webstore/billing"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the person-facing templates by name, each joined with the
// layout.
type pages map[string]*template.Template

func parsePages() pages {
	ps := pages{}
	for _, name := range []string{"wait", "phone", "confirm", "status"} {
		// The templates are compiled into the binary; a parse error is a
		// build defect that every test would show.
		ps[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return ps
}

// pageData is what the templates show.
type pageData struct {
	Title       string
	Refresh     int // seconds until the page reloads itself; 0 for never
	Merchant    string
	Product     string
	Amount      string
	Preapproved bool
	// AuthorizeOnly: the amount is held, then released, not charged.
	AuthorizeOnly bool
	ReserveID     string
	Cards         []cardChoice
	Card          sandboxCard
	Error         string

	PhoneURL      string
	CardAction    string
	ConfirmAction string
	CancelAction  string

	// The status page: a message and, optionally, a way on.
	Message  string
	Detail   string
	LinkURL  string
	LinkText string
}

// cardChoice is one radio button of the phone page.
type cardChoice struct {
	sandboxCard
	Checked bool
}

// render writes a page. The pages carry a capability (the reserve id) and
// the approve button, so they are never cached nor framed.
func (s *sandbox) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.cfg.Logger.Error("linepay sandbox: render", "page", name, "err", err)
		http.Error(w, "頁面發生錯誤", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// pageFor fills what every page of a transaction shows.
func (s *sandbox) pageFor(r *http.Request, t txnRow, title string) pageData {
	q := url.Values{"transactionReserveId": {t.ReserveID.String}}
	return pageData{
		Title:         title,
		Merchant:      s.cfg.MerchantName,
		Product:       t.ProductName,
		Amount:        billing.Money(t.Amount).String(),
		Preapproved:   t.PayType == string(Preapproved),
		AuthorizeOnly: !t.Capture,
		ReserveID:     t.ReserveID.String,
		PhoneURL:      s.absURL(r, "/app/payment", q),
		CardAction:    s.absURL(r, "/app/payment/card", nil),
		ConfirmAction: s.absURL(r, "/app/payment/approve", nil),
		CancelAction:  s.absURL(r, "/web/payment/cancel", nil),
	}
}

// statusPage shows a transaction that can no longer be approved here.
func (s *sandbox) statusPage(w http.ResponseWriter, r *http.Request, t txnRow) {
	d := s.pageFor(r, t, "")
	now := s.cfg.Now()
	switch {
	case t.Status == "paid":
		d.Title, d.Message = "付款已完成", "這筆付款已完成。"
	case t.Status == "authorized":
		d.Title, d.Message, d.Detail = "已完成授權", "這筆付款已完成授權。", "商店尚未請款,目前不會扣款。"
	case t.Status == "voided":
		d.Title, d.Message, d.Detail = "授權已取消", "這筆付款的授權已取消。", "商店已取消授權,這筆付款不會扣款。"
	case t.Status == "cancelled":
		d.Title, d.Message, d.LinkURL, d.LinkText = "付款已取消", "這筆付款已取消。", t.CancelURL, "返回商店"
	case t.Status == "failed":
		d.Title, d.Message = "付款失敗", "這筆付款未能完成,請回到商店改用其他付款方式。"
	case t.expired(now):
		d.Title, d.Message, d.Detail = "付款期限已過", "這筆付款的期限已過。", "請回到商店重新付款。"
		d.LinkURL, d.LinkText = t.CancelURL, "返回商店"
	case t.Status == "approved":
		d.Title, d.Message, d.Detail = "已確認付款方式", "您已在 LINE 確認付款方式。", "請回到商店完成付款。"
		d.LinkURL, d.LinkText = confirmRedirect(t), "返回商店"
	default:
		d.Title, d.Message = "付款尚未完成", "請在 LINE 選擇付款方式並確認。"
		d.LinkURL, d.LinkText = d.PhoneURL, "在此模擬手機上的 LINE"
	}
	s.render(w, http.StatusOK, "status", d)
}

func (s *sandbox) notFound(w http.ResponseWriter) {
	s.render(w, http.StatusNotFound, "status", pageData{Title: "找不到這筆付款", Message: "找不到這筆付款。",
		Detail: "付款連結可能有誤或已失效,請回到商店重新付款。"})
}

func (s *sandbox) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), "linepay sandbox page", "path", r.URL.Path, "err", err)
	s.render(w, http.StatusInternalServerError, "status", pageData{Title: "系統錯誤", Message: "系統暫時無法處理,請稍後再試。"})
}

// loadReserved reads the transaction behind a page's reserve id; ok is
// false when there is none.
func (s *sandbox) loadReserved(ctx context.Context, reserveID string) (t txnRow, ok bool, err error) {
	if reserveID == "" {
		return t, false, nil
	}
	err = s.db.GetContext(ctx, &t, `SELECT `+txnCols+` FROM sandbox_linepay_transactions
		WHERE reserve_id=$1 AND channel_id=$2`, reserveID, s.cfg.ChannelID)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("load transaction by reserve id: %w", err)
	}
	return t, true, nil
}

// open answers a page request for the transaction named by the reserve id:
// it returns the transaction if the person can still act on it, and
// otherwise has already answered.
func (s *sandbox) open(w http.ResponseWriter, r *http.Request, reserveID string) (txnRow, bool) {
	t, ok, err := s.loadReserved(r.Context(), reserveID)
	switch {
	case err != nil:
		s.internalError(w, r, err)
		return t, false
	case !ok:
		s.notFound(w)
		return t, false
	case t.Status != "requested" || t.expired(s.cfg.Now()):
		s.statusPage(w, r, t)
		return t, false
	}
	return t, true
}

// confirmRedirect is the merchant's confirmUrl with LINE Pay's transactionId
// and orderId added.
func confirmRedirect(t txnRow) string {
	u, err := url.Parse(t.ConfirmURL)
	if err != nil { // checked at request time; kept safe anyway
		return t.ConfirmURL
	}
	q := u.Query()
	q.Set("transactionId", fmt.Sprint(t.TransactionID))
	q.Set("orderId", t.OrderID)
	u.RawQuery = q.Encode()
	return u.String()
}

// waitPage is paymentUrl.web: on a computer, LINE asks the person to finish
// on the phone, and moves on to the merchant by itself once they have. The
// sandbox reloads the page to notice that, so it needs no JavaScript.
func (s *sandbox) waitPage(w http.ResponseWriter, r *http.Request) {
	t, ok, err := s.loadReserved(r.Context(), r.URL.Query().Get("transactionReserveId"))
	switch {
	case err != nil:
		s.internalError(w, r, err)
		return
	case !ok:
		s.notFound(w)
		return
	case t.Status == "approved" && !t.expired(s.cfg.Now()):
		http.Redirect(w, r, confirmRedirect(t), http.StatusSeeOther)
		return
	case t.Status != "requested" || t.expired(s.cfg.Now()):
		s.statusPage(w, r, t)
		return
	}
	d := s.pageFor(r, t, "請在手機上開啟 LINE 完成付款")
	d.Refresh = 5
	s.render(w, http.StatusOK, "wait", d)
}

// phonePage is what LINE shows on the phone: the payment and the cards.
func (s *sandbox) phonePage(w http.ResponseWriter, r *http.Request) {
	t, ok := s.open(w, r, r.URL.Query().Get("transactionReserveId"))
	if !ok {
		return
	}
	s.renderPhone(w, r, t, http.StatusOK, "")
}

func (s *sandbox) renderPhone(w http.ResponseWriter, r *http.Request, t txnRow, status int, problem string) {
	d := s.pageFor(r, t, "LINE Pay 付款")
	for _, c := range sandboxCards() {
		d.Cards = append(d.Cards, cardChoice{sandboxCard: c, Checked: c.ID == t.CardID})
	}
	d.Error = problem
	s.render(w, status, "phone", d)
}

// formValue reads one field of a small posted form.
func formValue(w http.ResponseWriter, r *http.Request, name string) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	return r.PostFormValue(name)
}

// chooseCard records the card chosen on the phone page (下一步).
func (s *sandbox) chooseCard(w http.ResponseWriter, r *http.Request) {
	t, ok := s.open(w, r, formValue(w, r, "transactionReserveId"))
	if !ok {
		return
	}
	card, ok := findCard(r.PostFormValue("card"))
	if !ok {
		s.renderPhone(w, r, t, http.StatusUnprocessableEntity, "請選擇一張信用卡。")
		return
	}
	if _, err := s.db.ExecContext(r.Context(), `UPDATE sandbox_linepay_transactions SET card_id=$1
		WHERE transaction_id=$2 AND status='requested'`, card.ID, t.TransactionID); err != nil {
		s.internalError(w, r, fmt.Errorf("choose card: %w", err))
		return
	}
	http.Redirect(w, r, s.absURL(r, "/app/payment/confirm", url.Values{"transactionReserveId": {t.ReserveID.String}}), http.StatusSeeOther)
}

// confirmPage is 確認付款方式: the payment and the chosen card, and 新增.
func (s *sandbox) confirmPage(w http.ResponseWriter, r *http.Request) {
	t, ok := s.open(w, r, r.URL.Query().Get("transactionReserveId"))
	if !ok {
		return
	}
	card, ok := findCard(t.CardID)
	if !ok {
		http.Redirect(w, r, s.absURL(r, "/app/payment", url.Values{"transactionReserveId": {t.ReserveID.String}}), http.StatusSeeOther)
		return
	}
	d := s.pageFor(r, t, "確認付款方式")
	d.Card = card
	s.render(w, http.StatusOK, "confirm", d)
}

// approve is 新增: the person agrees, and LINE sends them back to the
// merchant's confirmUrl, where the merchant calls Confirm.
func (s *sandbox) approve(w http.ResponseWriter, r *http.Request) {
	reserveID := formValue(w, r, "transactionReserveId")
	var t txnRow
	err := s.db.GetContext(r.Context(), &t, `UPDATE sandbox_linepay_transactions SET status='approved'
		WHERE reserve_id=$1 AND channel_id=$2 AND status='requested' AND card_id <> '' AND expires_at > $3
		RETURNING `+txnCols, reserveID, s.cfg.ChannelID, s.cfg.Now())
	if err == nil {
		http.Redirect(w, r, confirmRedirect(t), http.StatusSeeOther)
		return
	}
	if !errors.Is(err, sql.ErrNoRows) {
		s.internalError(w, r, fmt.Errorf("approve: %w", err))
		return
	}
	// Not approvable: already approved (a second tap), no card yet, or over.
	t, ok, err := s.loadReserved(r.Context(), reserveID)
	now := s.cfg.Now()
	switch {
	case err != nil:
		s.internalError(w, r, err)
	case !ok:
		s.notFound(w)
	case t.Status == "approved" && !t.expired(now):
		http.Redirect(w, r, confirmRedirect(t), http.StatusSeeOther)
	case t.Status == "requested" && !t.expired(now):
		http.Redirect(w, r, s.absURL(r, "/app/payment", url.Values{"transactionReserveId": {reserveID}}), http.StatusSeeOther)
	default:
		s.statusPage(w, r, t)
	}
}

// cancel gives up the payment and returns the person to the merchant's
// cancelUrl, as it was given.
func (s *sandbox) cancel(w http.ResponseWriter, r *http.Request) {
	reserveID := formValue(w, r, "transactionReserveId")
	var cancelURL string
	err := s.db.GetContext(r.Context(), &cancelURL, `UPDATE sandbox_linepay_transactions SET status='cancelled'
		WHERE reserve_id=$1 AND channel_id=$2 AND status='requested' RETURNING cancel_url`, reserveID, s.cfg.ChannelID)
	if err == nil {
		http.Redirect(w, r, cancelURL, http.StatusSeeOther)
		return
	}
	if !errors.Is(err, sql.ErrNoRows) {
		s.internalError(w, r, fmt.Errorf("cancel: %w", err))
		return
	}
	t, ok, err := s.loadReserved(r.Context(), reserveID)
	switch {
	case err != nil:
		s.internalError(w, r, err)
	case !ok:
		s.notFound(w)
	default:
		s.statusPage(w, r, t)
	}
}
