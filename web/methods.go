package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
	"webstore/web/payments"
)

// Adding a payment method [6–11]: e-invoice details come first; then LINE
// Pay (request → the person approves in LINE → confirm, which issues the
// regKey renewals charge later) or a card entered on the card gateway's own
// page (one-time token → stored card token). The app never sees a card
// number. The binding itself (the providers' calls, the NT$1 authorization
// and its void) is payments.Binder's; these handlers read the forms, keep
// the flow's state cookie, store the method and redirect.

// binder binds payment methods with the configured providers.
func (s *Server) binder() payments.Binder {
	return payments.Binder{LinePay: s.cfg.LinePay, Cards: s.cfg.Cards, CardPublicKey: s.cfg.CardPublicKey}
}

// absURL is an absolute URL on this server for a local path, on the
// configured BaseURL only, so no request header (Host, X-Forwarded-Host)
// decides where a provider sends the person back or where an invitation
// link points.
func (s *Server) absURL(path string) string { return s.cfg.BaseURL + path }

func (s *Server) newMethod(c echo.Context) error {
	next := localNext(c.QueryParam("next"), "")
	o, err := s.overview(c)
	if err != nil {
		return err
	}
	if o.Invoice == nil {
		// E-invoice details are required before the first payment method.
		back := pathFor(c, "/payment-methods/new?next="+url.QueryEscape(next))
		return c.Redirect(http.StatusSeeOther, pathFor(c, "/einvoice?next="+url.QueryEscape(back)))
	}
	return render(c, http.StatusOK, views.NewMethod(page(c, lang(c).T("新增付款方式", "Add a payment method")),
		newMethodView(o.Methods, next, c.QueryParam("main"))))
}

// newMethodView is the 新增付款方式 page with the account's methods: it
// asks whether the new method becomes the main one when there is one
// already, with answer ("yes", "no") checked; yes unless answered no.
func newMethodView(ms []db.PaymentMethod, next, answer string) views.NewMethodView {
	v := views.NewMethodView{Next: next, MakeMain: answer != "no"}
	for _, pm := range ms {
		if pm.IsMain {
			m := methodView(pm)
			v.Main = &m
		}
	}
	return v
}

// renderNewMethod shows the 新增付款方式 page again with an error, keeping
// the admin's answer to 設為主要付款方式?.
func (s *Server) renderNewMethod(c echo.Context, status int, next, answer string, msg func(views.Lang) string) error {
	ms, err := s.store.PaymentMethods(c.Request().Context(), member(c).AccountID)
	if err != nil {
		return err
	}
	p := page(c, lang(c).T("新增付款方式", "Add a payment method"))
	p.Error = msg(p.Lang)
	return render(c, status, views.NewMethod(p, newMethodView(ms, next, answer)))
}

// mainAnswer is the answer to 設為主要付款方式? a return from a provider
// carries: the new method becomes main unless the admin answered no.
func mainAnswer(c echo.Context) bool { return c.QueryParam("main") != "no" }

// cookieBind holds the state of a payment-method flow in progress, for
// bindLifetime (LINE Pay gives the person 20 minutes).
const (
	cookieBind   = "ws_bind"
	bindLifetime = 20 * time.Minute
)

// bindFlow is the payment-method flow this browser started, as its
// cookieBind cookie keeps it: the state the provider must send back and,
// for LINE Pay, the transaction and order LINE Pay answered the request
// with. A return is matched against it before anything is sent to the
// provider.
type bindFlow struct {
	State, TransactionID, OrderID string
}

// cookie is the flow as a cookie value: the state, then for LINE Pay
// ".transactionId.orderId" (the order id query-escaped; neither a token nor
// a transaction id holds a dot).
func (f bindFlow) cookie() string {
	if f.TransactionID == "" {
		return f.State
	}
	return f.State + "." + f.TransactionID + "." + url.QueryEscape(f.OrderID)
}

func (s *Server) setBindCookie(c echo.Context, f bindFlow) {
	c.SetCookie(&http.Cookie{Name: cookieBind, Value: f.cookie(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies, MaxAge: int(bindLifetime.Seconds())})
}

// endBind reads the flow this browser started and ends it (a return is
// used once). ok is false without one, or when the provider's return does
// not carry its state.
func (s *Server) endBind(c echo.Context) (f bindFlow, ok bool) {
	c.SetCookie(&http.Cookie{Name: cookieBind, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	ck, err := c.Cookie(cookieBind)
	if err != nil || ck.Value == "" {
		return bindFlow{}, false
	}
	parts := strings.SplitN(ck.Value, ".", 3)
	f.State = parts[0]
	if len(parts) == 3 {
		f.TransactionID = parts[1]
		if f.OrderID, err = url.QueryUnescape(parts[2]); err != nil {
			return bindFlow{}, false
		}
	}
	return f, subtle.ConstantTimeCompare([]byte(f.State), []byte(c.QueryParam("state"))) == 1
}

func (s *Server) startMethod(c echo.Context) error {
	next := localNext(c.FormValue("next"), "")
	answer := c.FormValue("main")
	if answer != "" && answer != "yes" && answer != "no" {
		return s.renderNewMethod(c, http.StatusUnprocessableEntity, next, "", func(l views.Lang) string {
			return l.T("請選擇是否設為主要付款方式。", "Please choose whether it becomes the main payment method.")
		})
	}
	// The provider sends the person back with this state; only the browser
	// that started the flow holds it (a cookie), so a link crafted with
	// someone else's card cannot bind that card to this account.
	state := db.NewToken()
	s.setBindCookie(c, bindFlow{State: state})
	q := "?next=" + url.QueryEscape(next) + "&state=" + url.QueryEscape(state)
	if answer == "no" {
		q += "&main=no" // the provider sends it back with the rest
	}
	switch billing.PaymentKind(c.FormValue("kind")) {
	case billing.LinePay:
		if s.cfg.LinePay == nil {
			return fmt.Errorf("LINE Pay is not configured")
		}
		res, err := s.binder().StartLinePay(c.Request().Context(), member(c).AccountID,
			s.absURL(pathFor(c, "/payment-methods/linepay/confirm"+q)),
			s.absURL(pathFor(c, "/payment-methods/linepay/cancel"+q)))
		if err != nil {
			return s.methodError(c, err, next, answer)
		}
		// The return must name this transaction and order: no other
		// transaction is ever confirmed from this browser's return.
		s.setBindCookie(c, bindFlow{State: state, TransactionID: res.TransactionID, OrderID: res.OrderID})
		return c.Redirect(http.StatusSeeOther, res.PaymentURL)
	case billing.CreditCard:
		if s.cfg.Cards == nil {
			return fmt.Errorf("the card gateway is not configured")
		}
		ret := s.absURL(pathFor(c, "/payment-methods/card/return"+q))
		return c.Redirect(http.StatusSeeOther, s.binder().CardFieldsURL(ret))
	}
	return s.renderNewMethod(c, http.StatusUnprocessableEntity, next, answer, func(l views.Lang) string {
		return l.T("請選擇付款方式。", "Please choose a payment method.")
	})
}

// methodError shows a provider's refusal on the add-method page.
func (s *Server) methodError(c echo.Context, err error, next, answer string) error {
	return s.renderNewMethod(c, http.StatusBadGateway, next, answer, func(l views.Lang) string { return providerMessage(l, err) })
}

// linePayConfirm is LINE Pay's return after the person approved the NT$1
// authorization. The return must be the one this browser started (its
// state, transaction and order, from the cookie) before LINE Pay is asked
// to confirm anything, so a crafted link never confirms a transaction that
// is not this flow's. Once confirmed, the authorization is always voided,
// whatever happens next: after the regKey is kept, or at once when LINE
// Pay's answer is not the order and amount requested (the regKey is then
// not kept; see payments.Binder.ConfirmLinePay).
func (s *Server) linePayConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	next := localNext(c.QueryParam("next"), "")
	txID, orderID := c.QueryParam("transactionId"), c.QueryParam("orderId")
	flow, ok := s.endBind(c)
	if !ok || flow.TransactionID == "" || txID != flow.TransactionID || orderID != flow.OrderID {
		return s.bindRefused(c, next)
	}
	confirmed, err := s.binder().ConfirmLinePay(ctx, member(c).AccountID, txID, orderID)
	if errors.Is(err, payments.ErrNotThisBinding) {
		return s.bindRefused(c, next)
	} else if err != nil {
		return s.methodError(c, err, next, c.QueryParam("main"))
	}
	// The regKey is kept first; the NT$1 authorization is released after,
	// even if the person closes the page meanwhile.
	defer confirmed.Void(ctx)
	if err := s.addMethod(c, confirmed.Method); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(orDefault(next, pathFor(c, "/payment-methods")), "method-added"))
}

// addMethod keeps a method a provider bound as the account's, main unless
// the admin answered no.
func (s *Server) addMethod(c echo.Context, m payments.BoundMethod) error {
	_, err := s.store.AddPaymentMethod(c.Request().Context(), actor(c), db.PaymentMethod{AccountID: member(c).AccountID, Kind: m.Kind,
		Token: m.Token, Label: m.Label, Brand: m.Brand, Last4: m.Last4, Expiry: m.Expiry}, mainAnswer(c))
	return err
}

func (s *Server) methodCancelled(c echo.Context) error {
	next := localNext(c.QueryParam("next"), "")
	back := "/payment-methods/new?next=" + url.QueryEscape(next)
	if c.QueryParam("main") == "no" {
		back += "&main=no" // the answer stands for the next try
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, back), "method-cancelled"))
}

func (s *Server) cardReturn(c echo.Context) error {
	ctx := c.Request().Context()
	next := localNext(c.QueryParam("next"), "")
	tok := c.QueryParam("card_token")
	if tok == "" {
		return s.methodCancelled(c)
	}
	if _, ok := s.endBind(c); !ok {
		return s.bindRefused(c, next)
	}
	card, err := s.binder().AttachCard(ctx, tok)
	if err != nil {
		return s.methodError(c, err, next, c.QueryParam("main"))
	}
	if err := s.addMethod(c, card); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(orDefault(next, pathFor(c, "/payment-methods")), "method-added"))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// providerMessage is a payment provider's refusal as a sentence for the
// admin: the provider's own explanation of a declined method, or a plain
// "try again" for anything on the provider's or our side.
func providerMessage(l views.Lang, err error) string {
	if msg, ok := payments.RefusalMessage(err); ok {
		return msg
	}
	return l.T("付款服務暫時無法使用,請稍後再試。未收取任何費用。", "The payment service is unavailable right now; please try again later. Nothing was charged.")
}

// bindRefused answers a provider return this browser did not start (or
// that does not match what it started).
func (s *Server) bindRefused(c echo.Context, next string) error {
	return s.renderNewMethod(c, http.StatusBadRequest, next, c.QueryParam("main"), func(l views.Lang) string {
		return l.T("這個付款方式設定連結無效或已過期,請重新新增付款方式。未新增任何付款方式。",
			"This payment-method link is not valid or has expired; please add the method again. Nothing was added.")
	})
}
