package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// The phone webstore's pages: menu, plan, checkout, result, history,
// scheduled payment, promo codes, e-invoice details, payment methods.

func (s *Server) overview(c echo.Context) (db.Overview, error) {
	return s.store.FindOverview(c.Request().Context(), member(c).AccountID)
}

// overviewWith is overview with a page's extras, in the same round trip.
func (s *Server) overviewWith(c echo.Context, with db.OverviewWith) (db.Overview, error) {
	return s.store.FindOverviewWith(c.Request().Context(), member(c).AccountID, with)
}

func (s *Server) menu(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Menu(page(c, lang(c).T("選單", "Menu")), views.PlanView{O: accountView(o), Owed: chargeViews(lang(c), o.Owed)}))
}

func (s *Server) plan(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode})
	if err != nil {
		return err
	}
	return s.renderPlan(c, http.StatusOK, o, "")
}

func (s *Server) renderPlan(c echo.Context, status int, o db.Overview, errMsg string) error {
	return s.renderPlanConfirm(c, status, o, errMsg, nil)
}

// renderPlanConfirm is the plan page, asking first to confirm a downgrade
// to confirm when it is not nil.
func (s *Server) renderPlanConfirm(c echo.Context, status int, o db.Overview, errMsg string, confirm *billing.Plan) error {
	p := page(c, lang(c).T("方案", "Plan"))
	p.Error = errMsg
	usage := o.Usage
	v := views.PlanView{O: accountView(o), Usage: views.Usage{FreeSent: usage.FreeSent, AdditionalSent: usage.AdditionalSent,
		RefreshedAt: usage.RefreshedAt}, Owed: chargeViews(p.Lang, o.Owed)}
	v.ConfirmDowngrade = confirm
	if confirm != nil && o.Code != nil && o.Code.Status == billing.CodeRegistered {
		// Asked of the billing core: would the renewal after the downgrade
		// use the code?
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		if after, err := o.Catalog.Downgrade(o.Account, confirm.ID, o.Now); err == nil {
			_, used := o.Catalog.NextRenewalOffset(after, hold, o.Code.Campaign, o.Now)
			v.CodeUnused = !used
		}
	}
	if o.Plan.Additional && usage.AdditionalSent > 0 {
		// What the additional messages so far would be charged after the
		// month ends, under the tiers in force.
		tiers, err := s.store.UsageTiers(c.Request().Context())
		if err != nil {
			return err
		}
		q, err := billing.QuoteUsage(tiers, billing.MonthOf(o.Now), usage.AdditionalSent)
		if err != nil {
			return err
		}
		v.Usage.Estimate = &q
	}
	return render(c, status, views.PlanPage(p, v))
}

// planNews is the page behind the 2023/9/1 plan-change notice's 更多詳細內容.
func (s *Server) planNews(c echo.Context) error {
	cat, err := s.store.Catalog(c.Request().Context()) // cached: no round trip
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PlanNews(page(c, lang(c).T("推廣方案更新", "Plan update")), cat))
}

// premiumID is 專屬ID: the account's basic ID; a premium ID is not sold here.
func (s *Server) premiumID(c echo.Context) error {
	return render(c, http.StatusOK, views.PremiumID(page(c, lang(c).T("專屬ID", "Premium ID")), member(c).AccountID))
}

// downgrade schedules a downgrade in two steps: the first POST shows the
// plan page asking to confirm it (when and what it changes, no refunds),
// the second (confirm=yes) schedules it. A plan that is no downgrade is
// refused by the store at the first step.
func (s *Server) downgrade(c echo.Context) error {
	to := billing.PlanID(c.FormValue("plan"))
	if c.FormValue("confirm") != "yes" {
		o, err := s.overview(c)
		if err != nil {
			return err
		}
		if target, err := o.Catalog.Plan(to); err == nil && o.Plan.IsDowngradeTo(target) {
			return s.renderPlanConfirm(c, http.StatusOK, o, "", &target)
		}
	}
	_, err := s.store.ScheduleDowngrade(c.Request().Context(), actor(c), member(c).AccountID, to)
	return s.afterPlanChange(c, err, "downgrade")
}

func (s *Server) cancelDowngrade(c echo.Context) error {
	_, err := s.store.CancelDowngrade(c.Request().Context(), actor(c), member(c).AccountID)
	return s.afterPlanChange(c, err, "downgrade-cancelled")
}

func (s *Server) afterPlanChange(c echo.Context, err error, notice string) error {
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		o, oerr := s.overview(c)
		if oerr != nil {
			return oerr
		}
		return s.renderPlan(c, http.StatusUnprocessableEntity, o, lang(c).Err(err))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/plan"), notice))
}

// pathFor is an account page's path on the request's surface.
func pathFor(c echo.Context, p string) string {
	return "/" + surface(c) + "/" + url.PathEscape(member(c).AccountID) + p
}

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

// accountCharge is the charge named in the path, if it is this account's.
func (s *Server) accountCharge(c echo.Context) (db.Charge, error) {
	_, ch, err := s.chargeOverview(c)
	return ch, err
}

// chargeOverview reads the account with the charge named in the path, if
// it is this account's, in one round trip.
func (s *Server) chargeOverview(c echo.Context) (db.Overview, db.Charge, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Overview{}, db.Charge{}, echo.ErrNotFound
	}
	o, err := s.overviewWith(c, db.OverviewWith{Charge: id, Skip: db.SkipCode | db.SkipOwed})
	if err != nil {
		return o, db.Charge{}, err
	}
	if o.Charge == nil {
		return o, db.Charge{}, echo.ErrNotFound
	}
	return o, *o.Charge, nil
}

func (s *Server) charge(c echo.Context) error {
	o, ch, err := s.chargeOverview(c)
	if err != nil {
		return err
	}
	v := views.ChargeView{C: chargeView(lang(c), ch), Catalog: o.Catalog, Just: c.QueryParam("done") != "", Already: c.QueryParam("already") != "",
		Plan: o.Plan, Method: methodLabel(lang(c), o.Methods, ch),
		MonthEnd: o.MonthEnd}
	if ch.Kind == billing.KindUpgrade && ch.Status == billing.StatusPaid && o.Plan.ID == ch.Plan {
		if r, err := o.Quote(billing.KindRenewal, ""); err == nil && r.Chargeable() && r.Plan == ch.Plan {
			v.Renewal = &r
		}
	}
	if to, err := o.Catalog.Plan(ch.Plan); err == nil && ch.Kind == billing.KindUpgrade && ch.Status == billing.StatusFailed {
		v.Rebuy = o.Plan.IsUpgradeTo(to)
	}
	p := page(c, lang(c).T("付款明細", "Charge details"))
	if ch.Status == billing.StatusPending && ch.Kind == billing.KindUpgrade {
		p.Refresh = 2 // a purchase in progress (another tab, a double-click): show its outcome when it lands
	}
	return render(c, http.StatusOK, views.ChargeResult(p, v))
}

// payNow is the admin's 立即付款 on a failed charge: the same retry as the
// automatic ones and the console's (db.Store.RetryCharge), quoted again
// against the account as it is now. The charge page then shows the outcome.
func (s *Server) payNow(c echo.Context) error {
	ch, err := s.accountCharge(c)
	if err != nil {
		return err
	}
	back := pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10))
	ch, err = s.store.RetryCharge(c.Request().Context(), actor(c), ch.ID)
	switch code := billing.ErrorCode(err); {
	case err == nil && ch.Status == billing.StatusPaid:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "paid-now"))
	case err == nil, code == billing.EPaymentPending:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retried"))
	case code == billing.EPaymentFailed:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retry-failed"))
	case code == billing.ENoPaymentMethod:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retry-no-method"))
	case code == billing.ENothingToRetry:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "nothing-owed"))
	case code == billing.EMonthNotCurrent:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "renewal-given-up"))
	}
	return err
}

// receipt is a paid charge's printable receipt.
func (s *Server) receipt(c echo.Context) error {
	o, ch, err := s.chargeOverview(c)
	if err != nil {
		return err
	}
	if ch.Status != billing.StatusPaid {
		return echo.ErrNotFound
	}
	v := views.ReceiptView{C: chargeView(lang(c), ch), Catalog: o.Catalog, Method: methodLabel(lang(c), o.Methods, ch), Invoice: o.Invoice, Account: o.Name}
	return render(c, http.StatusOK, views.Receipt(page(c, lang(c).T("付款收據", "Receipt")), v))
}

func methodLabel(l views.Lang, ms []db.PaymentMethod, ch db.Charge) string {
	for _, m := range ms {
		if ch.PaymentID.Valid && m.ID == ch.PaymentID.Int64 {
			return l.MethodLabel(methodView(m))
		}
	}
	if ch.PaymentKind != "" {
		return l.PaymentKind(billing.PaymentKind(ch.PaymentKind))
	}
	return ""
}

// history lists the account's charges, newest first, optionally of one
// billing month (?month=YYYY-MM).
func (s *Server) history(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Charges: true, Skip: db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	all := o.Charges
	v := views.HistoryView{Catalog: o.Catalog, Methods: map[int64]string{}, Month: c.QueryParam("month")}
	if _, err := billing.ParseMonth(v.Month); err != nil {
		v.Month = ""
	}
	for _, ch := range all {
		m := ch.Month().String()
		if !slices.Contains(v.Months, m) {
			v.Months = append(v.Months, m)
		}
		if v.Month != "" && m != v.Month {
			continue
		}
		v.Charges = append(v.Charges, chargeView(lang(c), ch))
		if ch.PaymentID.Valid {
			v.Methods[ch.PaymentID.Int64] = methodLabel(lang(c), o.Methods, ch)
		}
	}
	slices.SortFunc(v.Months, func(a, b string) int { return strings.Compare(b, a) })
	return render(c, http.StatusOK, views.History(page(c, lang(c).T("付款記錄", "Payment history")), v))
}

func (s *Server) scheduled(c echo.Context) error {
	o, err := s.overview(c)
	if err != nil {
		return err
	}
	q, err := o.Quote(billing.KindRenewal, "")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Scheduled(page(c, lang(c).T("預定付款", "Scheduled payment")), views.ScheduledView{O: accountView(o), Next: q}))
}

func (s *Server) promoView(c echo.Context) (views.PromoView, error) {
	o, err := s.overviewWith(c, db.OverviewWith{CodeCharge: true, Skip: db.SkipMethods | db.SkipInvoice | db.SkipOwed})
	if err != nil {
		return views.PromoView{}, err
	}
	v := views.PromoView{O: accountView(o)}
	if o.Code == nil {
		return v, nil
	}
	if o.Code.ChargeID != 0 && o.Code.Status == billing.CodeRedeemed && o.CodeCharge != nil {
		used := chargeView(lang(c), *o.CodeCharge)
		v.UsedIn = &used
	}
	if o.Code.Status == billing.CodeRegistered {
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		if q, ok := o.Catalog.NextRenewalOffset(o.Account, hold, o.Code.Campaign, o.Now); ok {
			v.Later = &q
		}
	}
	return v, nil
}

func (s *Server) promo(c echo.Context) error {
	v, err := s.promoView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Promo(page(c, lang(c).T("優惠活動代碼", "Promo codes")), v))
}

func (s *Server) registerCode(c echo.Context) error {
	typed := c.FormValue("code")
	_, err := s.store.RegisterCode(c.Request().Context(), actor(c), member(c).AccountID, typed)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/promo"), "code"))
	}
	if billing.ErrorCode(err) == "" {
		return err
	}
	v, verr := s.promoView(c)
	if verr != nil {
		return verr
	}
	v.Input, v.CodeError = typed, lang(c).Err(err)
	return render(c, http.StatusUnprocessableEntity, views.Promo(page(c, lang(c).T("優惠活動代碼", "Promo codes")), v))
}

func (s *Server) einvoice(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	v := views.InvoiceView{Next: localNext(c.QueryParam("next"), "")}
	if o.Invoice != nil {
		v.D = *o.Invoice
	}
	return render(c, http.StatusOK, views.Invoice(page(c, lang(c).T("電子發票資訊", "E-invoice details")), v))
}

// invoiceFromForm reads the e-invoice form as typed; the store normalises
// and validates it (billing.InvoiceDetails Normalize, Validate).
func invoiceFromForm(f url.Values) billing.InvoiceDetails {
	return billing.InvoiceDetails{Kind: billing.InvoiceKind(f.Get("kind")), Carrier: f.Get("carrier"),
		CompanyTitle: f.Get("company_title"), TaxID: f.Get("tax_id"), DonationCode: f.Get("donation_code"),
		Email: f.Get("email")}
}

func (s *Server) saveEinvoice(c echo.Context) error {
	form, _ := c.FormParams()
	d := invoiceFromForm(form)
	next := localNext(c.FormValue("next"), "")
	_, err := s.store.SaveInvoiceDetails(c.Request().Context(), actor(c), member(c).AccountID, d)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		p := page(c, lang(c).T("電子發票資訊", "E-invoice details"))
		p.Error = p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.Invoice(p, views.InvoiceView{D: d, Next: next}))
	}
	if next != "" {
		return c.Redirect(http.StatusSeeOther, withNotice(next, "einvoice"))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/einvoice"), "einvoice"))
}

func (s *Server) methods(c echo.Context) error {
	ms, err := s.store.PaymentMethods(c.Request().Context(), member(c).AccountID)
	if err != nil {
		return err
	}
	v := views.MethodsView{Methods: methodViews(ms), Next: localNext(c.QueryParam("next"), "")}
	return render(c, http.StatusOK, views.Methods(page(c, lang(c).T("付款方式", "Payment methods")), v))
}

func (s *Server) setMainMethod(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.store.SetMainPaymentMethod(c.Request().Context(), actor(c), member(c).AccountID, id); err != nil {
		return err
	}
	if next := localNext(c.FormValue("next"), ""); next != "" {
		return c.Redirect(http.StatusSeeOther, withNotice(next, "method-main"))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/payment-methods"), "method-main"))
}

// removeMethod removes a payment method. Removing the only one of an
// account on a paid plan takes two steps: the first POST shows the methods
// page asking to confirm (the next renewal could not be paid), the second
// (confirm=yes) removes it.
func (s *Server) removeMethod(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if c.FormValue("confirm") != "yes" {
		o, err := s.overview(c)
		if err != nil {
			return err
		}
		if len(o.Methods) == 1 && o.Methods[0].ID == id && (!o.Plan.Free() || !o.NextRenewal.IsZero()) {
			v := views.MethodsView{Methods: methodViews(o.Methods), ConfirmRemove: id, Plan: o.Plan, NextRenewal: o.NextRenewal}
			return render(c, http.StatusOK, views.Methods(page(c, lang(c).T("付款方式", "Payment methods")), v))
		}
	}
	if err := s.store.RemovePaymentMethod(c.Request().Context(), actor(c), member(c).AccountID, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/payment-methods"), "method-removed"))
}

// accountSettings is 帳號設定: the account's name (editable by an admin) and
// region (read-only: it decides which campaigns apply).
func (s *Server) accountSettings(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountSettings(page(c, lang(c).T("帳號設定", "Account settings")), accountSettingsView(o, o.Name)))
}

func (s *Server) renameAccount(c echo.Context) error {
	name := c.FormValue("name")
	err := s.store.RenameAccount(c.Request().Context(), actor(c), member(c).AccountID, name)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		o, oerr := s.overview(c)
		if oerr != nil {
			return oerr
		}
		p := page(c, lang(c).T("帳號設定", "Account settings"))
		p.Error = p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.AccountSettings(p, accountSettingsView(o, name)))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/account"), "account-renamed"))
}
