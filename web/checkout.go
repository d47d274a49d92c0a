package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 購買: the checkout, a code typed at it, and the purchase.

// checkoutView prices the upgrade to plan for the checkout page. A fresh
// checkout gets a new idempotency key; a re-render keeps the one it had.
func (s *Server) checkoutView(c echo.Context, plan, key string) (views.CheckoutView, error) {
	o, err := s.overview(c)
	if err != nil {
		return views.CheckoutView{}, err
	}
	target, err := o.Catalog.Plan(billing.PlanID(plan))
	if err != nil {
		return views.CheckoutView{}, err
	}
	if key == "" || len(key) > maxIdempotencyKey {
		key = db.NewToken()
	}
	v := views.CheckoutView{O: accountView(o), Target: target, Key: key, NeedsInvoice: o.Invoice == nil, NeedsMethod: o.MainMethod() == nil,
		Self: pathFor(c, "/checkout?plan="+url.QueryEscape(plan))}
	v.Owed = chargeViews(lang(c), o.Owed)
	v.Quote, err = o.Quote(billing.KindUpgrade, target.ID)
	switch billing.ErrorCode(err) {
	case "", billing.ENoPaymentMethod:
	default:
		return v, err
	}
	if o.Code != nil && o.Code.Status == billing.CodeRegistered && v.Quote.Code == "" {
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		after := o.Account
		after.Plan = target.ID
		if q, ok := o.Catalog.NextRenewalOffset(after, hold, o.Code.Campaign, o.Now); ok {
			v.Later = &q
		}
	}
	if o.Code != nil && o.Code.Status == billing.CodeRegistered && v.Quote.Code == "" && v.NeedsMethod {
		// A code registered before any payment method: say what it will
		// offset once one it accepts is added (the document: 務必確認費用被折抵).
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		for _, kind := range o.Code.Campaign.PaymentKinds {
			q, err := o.QuoteAssuming(target.ID, db.Assume{Payment: kind, Code: hold, Campaign: o.Code.Campaign})
			if err != nil {
				break
			}
			if q.Code != "" {
				v.Pending, v.PendingKinds = &q, o.Code.Campaign.PaymentKinds
				v.Later = nil
				break
			}
			v.Quote.CodeRefusal = q.CodeRefusal // why it will not, method or not
		}
	}
	if r, ok := renewalAfter(o, v.Quote); ok {
		v.Renewal = &r
	}
	if o.Code != nil && o.Code.Status == billing.CodeRegistered && v.Quote.Code != "" && v.Quote.Forfeited > 0 {
		// The document's two options: upgrade now and forfeit the rest, or
		// keep the plan and let the next renewal use more of the code.
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		if q, ok := o.Catalog.NextRenewalOffset(o.Account, hold, o.Code.Campaign, o.Now); ok && q.Offset > v.Quote.Offset {
			v.Wait = &q
		}
	}
	return v, nil
}

// renewalAfter is the renewal an upgrade quoted as q commits the account
// to: the next month start's charge on q's plan, before any code.
func renewalAfter(o db.Overview, q billing.Quote) (billing.Quote, bool) {
	after := q.Apply(o.Account)
	r, err := o.Catalog.Quote(billing.QuoteInput{Kind: billing.KindRenewal, Account: after, At: billing.MonthOf(o.Now).Next().Start()})
	if err != nil || !r.Chargeable() {
		return r, false
	}
	return r, true
}

func (s *Server) checkout(c echo.Context) error {
	// A purchase key comes only from the page the server rendered (the
	// purchase and code forms), never from the URL: each checkout opened
	// gets a fresh one.
	v, err := s.checkoutView(c, c.QueryParam("plan"), "")
	if err != nil {
		if billing.ErrorCode(err) == billing.ENotAnUpgrade {
			if ch, ok := s.boughtAlready(c, billing.PlanID(c.QueryParam("plan"))); ok {
				// Browser back, or a bookmark, after buying: say so.
				return c.Redirect(http.StatusSeeOther, pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10)+"?already=1"))
			}
		}
		if code := billing.ErrorCode(err); code == billing.ENotAnUpgrade || code == billing.EUnknownPlan {
			o, oerr := s.overview(c)
			if oerr != nil {
				return oerr
			}
			return s.renderPlan(c, http.StatusUnprocessableEntity, o, lang(c).Err(err))
		}
		return err
	}
	p := page(c, lang(c).T("結帳", "Checkout"))
	return render(c, http.StatusOK, views.Checkout(p, v))
}

// checkoutCode registers a code from the checkout's code box and shows the
// checkout again with the new totals, or the refusal with what was typed.
func (s *Server) checkoutCode(c echo.Context) error {
	ctx := c.Request().Context()
	typed := c.FormValue("code")
	plan := billing.PlanID(c.FormValue("plan"))
	var mismatch *views.CodeMismatch
	fits := func(camp billing.Campaign) error {
		// A code that would not offset this purchase is caught before it
		// is registered for good: the page says what it applies to and
		// asks to confirm.
		if c.FormValue("confirm") == "yes" {
			return nil
		}
		o, err := s.overview(c)
		if err != nil {
			return err
		}
		as := db.Assume{Code: &billing.PromoCode{Code: billing.NormalizeCode(typed), CampaignID: camp.ID, AccountID: o.ID, Status: billing.CodeRegistered}, Campaign: camp}
		if len(camp.PaymentKinds) > 0 {
			as.Payment = camp.PaymentKinds[0] // with no method yet: as it will be once one is added
		}
		q, err := o.QuoteAssuming(plan, as)
		if err != nil && billing.ErrorCode(err) != billing.ENoPaymentMethod {
			return nil // the checkout itself will say what is wrong
		}
		if q.Code == "" && q.CodeRefusal != "" {
			mismatch = &views.CodeMismatch{Code: typed, Campaign: camp, Why: q.CodeRefusal}
			return errCodeMismatch
		}
		return nil
	}
	_, regErr := s.store.RegisterCodeIf(ctx, actor(c), member(c).AccountID, typed, fits)
	if errors.Is(regErr, errCodeMismatch) {
		regErr = nil
	} else if regErr != nil && billing.ErrorCode(regErr) == "" {
		return regErr
	}
	v, err := s.checkoutView(c, string(plan), c.FormValue("key"))
	if err != nil {
		return err
	}
	p := page(c, lang(c).T("結帳", "Checkout"))
	status := http.StatusOK
	if mismatch != nil {
		v.Mismatch, v.CodeInput = mismatch, typed
	} else if regErr != nil {
		v.CodeInput, v.CodeError = typed, p.Lang.Err(regErr)
		status = http.StatusUnprocessableEntity
	} else {
		v.CodeNotice = noticeText(p.Lang, "code")
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		status = http.StatusOK // htmx swaps only 2xx answers
	}
	return render(c, status, views.Checkout(p, v))
}

// errCodeMismatch stops a code's registration to ask first.
var errCodeMismatch = errors.New("the code does not offset this purchase")

// purchaseForm is the checkout's purchase form, decoded.
type purchaseForm struct {
	Plan, Key string
	Terms     bool
	// Expect is the quote the page showed, which the purchase must match.
	Expect billing.Quote
}

// purchaseFault is why a purchase form is refused before the store is
// asked; purchaseOK when it is not.
type purchaseFault int

const (
	purchaseOK         purchaseFault = iota
	purchaseKeyTooLong               // over maxIdempotencyKey: the page gets a fresh key
	purchaseNoTerms                  // the terms box is not ticked
	purchaseIncomplete               // no key, or the amounts shown are not integers
)

// decodePurchase reads the purchase form (plan, key, terms, and the quote
// shown: expect_total, expect_offset, expect_from, expect_code), checking
// in the order the page reports faults.
func decodePurchase(f url.Values) (purchaseForm, purchaseFault) {
	p := purchaseForm{Plan: f.Get("plan"), Key: f.Get("key"), Terms: f.Get("terms") == "yes"}
	if len(p.Key) > maxIdempotencyKey {
		return p, purchaseKeyTooLong
	}
	if !p.Terms {
		return p, purchaseNoTerms
	}
	total, err1 := strconv.ParseInt(f.Get("expect_total"), 10, 64)
	offset, err2 := strconv.ParseInt(f.Get("expect_offset"), 10, 64)
	if p.Key == "" || err1 != nil || err2 != nil {
		return p, purchaseIncomplete
	}
	p.Expect = billing.Quote{Plan: billing.PlanID(p.Plan), FromPlan: billing.PlanID(f.Get("expect_from")),
		Total: billing.Money(total), Offset: billing.Money(offset), Code: f.Get("expect_code")}
	return p, purchaseOK
}

// purchase buys the plan at the price the page showed. A repeated submit
// with the same checkout key returns the first charge; a price that moved
// since the page was shown is refused with the new price on the page.
func (s *Server) purchase(c echo.Context) error {
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	pf, fault := decodePurchase(form)
	plan, key := pf.Plan, pf.Key
	l := lang(c)
	rerender := func(status int, msg string) error {
		v, err := s.checkoutView(c, plan, key)
		if err != nil {
			return err
		}
		p := page(c, l.T("結帳", "Checkout"))
		p.Error = msg
		return render(c, status, views.Checkout(p, v))
	}
	switch fault {
	case purchaseKeyTooLong:
		key = "" // the page gets a fresh one
		return rerender(http.StatusBadRequest, l.T("此頁面的購買識別碼無效,已重新產生。請確認金額後再購買。",
			"This page's purchase key was not valid; a new one was made. Check the amount and purchase again."))
	case purchaseNoTerms:
		return rerender(http.StatusUnprocessableEntity, l.T("請勾選「我已閱讀並同意服務條款」後再購買。", "Please tick \"I have read and agree to the terms of service\" first."))
	case purchaseIncomplete:
		return rerender(http.StatusUnprocessableEntity, l.T("頁面資料不完整,請確認金額後再購買。", "The page was incomplete; please check the amount and try again."))
	}
	expect := pf.Expect
	ch, replayed, err := s.store.UpgradeOnce(ctx, actor(c), db.UpgradeRequest{AccountID: member(c).AccountID, Plan: billing.PlanID(plan), Key: key, Expect: &expect})
	switch code := billing.ErrorCode(err); {
	case err == nil && replayed:
		// The same page submitted again (a double-click, a refresh, a
		// second tab's copy): the purchase it made, said as such.
		return c.Redirect(http.StatusSeeOther, pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10)+"?already=1"))
	case err == nil:
		return c.Redirect(http.StatusSeeOther, pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10)+"?done=1"))
	case code == billing.EPaymentPending && ch.ID != 0:
		// The provider's answer is not in yet: the charge page shows it
		// pending and reloads itself.
		return c.Redirect(http.StatusSeeOther, pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10)+"?done=1"))
	case code == billing.EPaymentFailed:
		key = "" // this page's key made the failed charge: buying again is a new purchase
		msg := l.T("付款失敗,未向您收取任何費用,優惠活動代碼也未被使用。", "The payment failed: nothing was charged and your promo code was not used.")
		if ch.Failure != "" {
			msg += " " + ch.Reason()
		}
		return rerender(http.StatusPaymentRequired, msg)
	case code == billing.EKeyReused:
		key = "" // the page gets a fresh one
		msg := l.Err(err)
		if ch.ID != 0 {
			msg += l.Tf("(先前的購買:付款明細 #%d)", " (the earlier purchase: charge #%d)", ch.ID)
		}
		return rerender(http.StatusConflict, msg)
	case code == billing.ENotAnUpgrade || code == billing.EQuoteChanged:
		if ch, ok := s.boughtAlready(c, billing.PlanID(plan)); ok {
			// A stale second tab: this plan was bought from another page.
			return c.Redirect(http.StatusSeeOther, pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10)+"?already=1"))
		}
		if code == billing.ENotAnUpgrade {
			o, oerr := s.overview(c)
			if oerr != nil {
				return oerr
			}
			return s.renderPlan(c, http.StatusUnprocessableEntity, o, l.Err(err))
		}
		return rerender(httpStatus(code), l.Err(err))
	case code != "":
		return rerender(httpStatus(code), l.Err(err))
	default:
		return err
	}
}

// boughtAlready finds the paid upgrade that put the account on plan (or
// above it) this month, for a page opened or submitted after the purchase.
func (s *Server) boughtAlready(c echo.Context, plan billing.PlanID) (db.Charge, bool) {
	o, err := s.overviewWith(c, db.OverviewWith{Charges: true, Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return db.Charge{}, false
	}
	target, err := o.Catalog.Plan(plan)
	if err != nil || o.Plan.IsUpgradeTo(target) {
		return db.Charge{}, false // the plan is still to be bought
	}
	for _, ch := range o.Charges { // newest first
		if ch.Kind == billing.KindUpgrade && ch.Status == billing.StatusPaid && billing.MonthOf(ch.EffectiveAt) == billing.MonthOf(o.Now) {
			if bought, err := o.Catalog.Plan(ch.Plan); err == nil && !bought.IsUpgradeTo(target) {
				return ch, true
			}
		}
	}
	return db.Charge{}, false
}
