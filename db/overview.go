package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// Overview is an account as its billing pages show it.
type Overview struct {
	ID     string
	Name   string
	Region string
	// Account is the billing state as of now (scheduled changes settled).
	Account billing.Account
	Plan    billing.Plan
	// Scheduled is the plan taking effect at the next month start, if any.
	Scheduled *billing.Plan
	// NextRenewal is the next month start when the account renews a paid
	// plan; zero on light (不適用).
	NextRenewal time.Time
	// MonthEnd is the last minute of the current month (22:59 Taiwan time).
	MonthEnd time.Time
	Methods  []PaymentMethod
	Invoice  *billing.InvoiceDetails
	Code     *RegisteredCode
	// Owed are the failed charges still owed, newest first: failed renewals
	// (retried on schedule, then given up) and failed additional-message
	// charges (billing.Charge.Retryable); a failed upgrade is not owed. The
	// banner of the menu, plan and checkout pages shows them with 立即付款.
	Owed []Charge
	// Usage is the month's message counts as last refreshed.
	Usage Usage
	// Charges are every charge of the account's, newest first, when asked
	// for (OverviewWith.Charges).
	Charges []Charge
	// Charge is the charge asked for (OverviewWith.Charge) if it is the
	// account's; CodeCharge the charge that redeemed Code, when asked for.
	Charge, CodeCharge *Charge
	// Invoices, Refunds and Allowances are the e-invoice, the refunds
	// (oldest first) and the allowances of Charges or Charge, by charge
	// id, when those were asked for.
	Invoices   map[int64]Invoice
	Refunds    map[int64][]Refund
	Allowances map[int64][]Allowance
	Catalog    billing.Catalog
	Now        time.Time

	// upgradeIn and renewalIn are what the rules need to price an upgrade
	// now and the renewal at the next month start (see Quote).
	upgradeIn, renewalIn billing.QuoteInput
}

// MainMethod returns the main payment method, or nil.
func (o Overview) MainMethod() *PaymentMethod {
	for i := range o.Methods {
		if o.Methods[i].IsMain {
			return &o.Methods[i]
		}
	}
	return nil
}

// Quote prices, from what the overview read, the charge an upgrade to plan
// would make now, or the next renewal at the next month start: the same
// answer as Store.Quote, without another round trip.
func (o Overview) Quote(kind billing.ChargeKind, to billing.PlanID) (billing.Quote, error) {
	in := o.upgradeIn
	if kind == billing.KindRenewal {
		in = o.renewalIn
	}
	in.Kind, in.To = kind, to
	return o.Catalog.Quote(in)
}

// Assume is what a page may suppose about an account when it says what a
// purchase will cost: a payment method of kind Payment added (when the
// account has none), or the code Code of campaign Campaign registered.
type Assume struct {
	Payment  billing.PaymentKind
	Code     *billing.PromoCode
	Campaign billing.Campaign
}

// QuoteAssuming prices the upgrade to plan now, as Quote does, for the
// account as it would be with as: "what will this cost once I add a card",
// "would this code offset this purchase". It writes nothing.
func (o Overview) QuoteAssuming(to billing.PlanID, as Assume) (billing.Quote, error) {
	in := o.upgradeIn
	in.Kind, in.To = billing.KindUpgrade, to
	in.Account, _ = in.Account.WithFirstMethod(as.Payment)
	if as.Code != nil {
		in.Code, in.Campaign = as.Code, as.Campaign
	}
	return o.Catalog.Quote(in)
}

// overviewSelect reads, in one statement, an account with its main method
// and the month's paid fee (as loadAccount), its payment methods, e-invoice
// details, latest code, owed charges and the month's usage. The lists come
// as JSON. $1 is the account, $2 the month, $3 the next month; $4, $5 and
// $6 ask for the extras of OverviewWith, $7 says which parts to skip, and
// $8, when not 0, asks for the staff account page's live usage, daily
// counts and that many audit entries (a CASE that is false reads nothing);
// $9 is billing.OwedKinds.
//
// The statement is the function account_overview (migration 015; 021 the
// latest), whose plan PostgreSQL keeps per server connection: pooler-safe,
// and planned once per connection rather than at every request.
const overviewSelect = `SELECT * FROM account_overview($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// OverviewParts are parts of the overview a page may go without.
type OverviewParts uint8

const (
	SkipMethods OverviewParts = 1 << iota // Methods (the main method's kind is always read)
	SkipInvoice                           // Invoice
	SkipCode                              // Code, and the code a quote may use: Overview.Quote then quotes without one
	SkipOwed                              // Owed (the banner of the menu, plan and checkout pages)
)

// OverviewWith asks FindOverviewWith for more, or less, than the overview.
type OverviewWith struct {
	// Skip leaves out parts the page does not show.
	Skip       OverviewParts
	Charges    bool  // every charge (付款記錄)
	Charge     int64 // one charge, if it is the account's (a charge page)
	CodeCharge bool  // the charge that redeemed the latest code (優惠活動代碼)
	staff      bool  // the staff account page's extras (StaffAccountPage)
}

// staffExtras are the staff account page's columns of overviewSelect.
type staffExtras struct {
	LiveFree       sql.NullInt64        `db:"live_free"`
	LiveAdditional sql.NullInt64        `db:"live_additional"`
	Daily          jsonList[DayCount]   `db:"daily"`
	Audit          jsonList[AuditEntry] `db:"audit"`
}

// FindOverview reads everything the account's pages show, in one round
// trip (the reference data comes from the process's cache).
func (s *Store) FindOverview(ctx context.Context, accountID string) (Overview, error) {
	return s.FindOverviewWith(ctx, accountID, OverviewWith{})
}

// FindOverviewWith is FindOverview with the extras a page asks for, in the
// same round trip.
func (s *Store) FindOverviewWith(ctx context.Context, accountID string, with OverviewWith) (Overview, error) {
	o, _, err := s.findOverview(ctx, accountID, with)
	return o, err
}

func (s *Store) findOverview(ctx context.Context, accountID string, with OverviewWith) (Overview, staffExtras, error) {
	now := s.Clock.Now()
	m := billing.MonthOf(now)
	// Whether the request may be served from the cache is decided before
	// the reference data is read (which may take statements of its own).
	v, cacheable := cachedVersion(ctx, accountID)
	ref, err := s.reference(ctx)
	if err != nil {
		return Overview{}, staffExtras{}, err
	}
	key := overviewKey{account: accountID, month: m.Date(), skip: with.Skip, charges: with.Charges, charge: with.Charge, codeCharge: with.CodeCharge}
	var row *overviewRow
	if cacheable && !with.staff {
		row, _ = s.overviews.get(key, v.version, v.global)
	}
	if row == nil {
		row = new(overviewRow)
		audit := 0
		if with.staff {
			audit = staffAuditLimit
		}
		if err := s.getPrepared(ctx, row, overviewSelect, accountID, m.Date(), m.Next().Date(),
			with.Charges, with.Charge, with.CodeCharge, int(with.Skip), audit, kinds(billing.OwedKinds)); err != nil {
			if isNoRows(err) {
				return Overview{}, staffExtras{}, billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", accountID)
			}
			return Overview{}, staffExtras{}, err
		}
		if !with.staff {
			// Cached under the versions the statement itself read: a
			// change committed after the session statement and before
			// this one is in the row and in its versions alike.
			s.overviews.put(key, overviewEntry{version: row.OverviewVersion, global: row.OverviewGlobal, row: row}, s.overviewCacheBytes())
		}
	}
	o, err := settledOverview(row.accountRow, ref.Catalog, now)
	if err != nil {
		return o, row.staffExtras, err
	}
	o.Usage = Usage{FreeSent: row.FreeSent, AdditionalSent: row.AdditionalSent, RefreshedAt: row.UsageRefreshedAt.Time}
	o.upgradeIn = billing.QuoteInput{Account: row.billing(m), At: now}
	next := row.accountRow
	next.PaidFee = row.NextPaidFee
	o.renewalIn = billing.QuoteInput{Account: next.billing(m.Next()), At: m.Next().Start()}
	// Copies: the row may be cached, and is shared.
	o.Methods = append([]PaymentMethod(nil), row.Methods...)
	if row.Invoice.Valid {
		o.Invoice = row.Invoice.V.details()
	}
	o.Owed = append([]Charge(nil), row.Owed...)
	o.Charges = append([]Charge(nil), row.Charges...)
	if row.Charge.Valid {
		ch := row.Charge.V
		o.Charge = &ch
	}
	if row.CodeCharge.Valid {
		ch := row.CodeCharge.V
		o.CodeCharge = &ch
	}
	row.chargeExtras.fill(&o)
	if row.Code.Valid {
		cr := row.Code.V
		c, err := s.campaign(ctx, cr.CampaignID)
		if err != nil {
			return o, row.staffExtras, err
		}
		o.Code = &RegisteredCode{Code: cr.Code, Display: cr.Display, Campaign: c, Status: cr.billing().StatusAt(c, now),
			Registered: cr.RegisteredAt.Time, Redeemed: cr.RedeemedAt.Time, ChargeID: cr.ChargeID.Int64}
	}
	if row.Held.Valid {
		// The code a quote may use: the one registered and not reserved
		// by a payment in flight (as quoteIn).
		hr := row.Held.V
		c, err := s.campaign(ctx, hr.CampaignID)
		if err != nil {
			return o, row.staffExtras, err
		}
		o.upgradeIn.Code, o.upgradeIn.Campaign = hr.billing(), c
		o.renewalIn.Code, o.renewalIn.Campaign = hr.billing(), c
	}
	return o, row.staffExtras, nil
}

// overviewRow is account_overview's row (migration 021). Once cached it
// is only read: each request builds its Overview from it afresh.
type overviewRow struct {
	accountRow
	NextPaidFee      int64                        `db:"next_paid_fee"`
	Methods          jsonList[PaymentMethod]      `db:"methods"`
	Invoice          jsonValue[invoiceDetailsRow] `db:"invoice"`
	Code             jsonValue[codeRow]           `db:"code"`
	Held             jsonValue[codeRow]           `db:"held"`
	Owed             jsonList[Charge]             `db:"owed"`
	Charges          jsonList[Charge]             `db:"charges"`
	Charge           jsonValue[Charge]            `db:"charge"`
	CodeCharge       jsonValue[Charge]            `db:"code_charge"`
	FreeSent         int                          `db:"free_sent"`
	AdditionalSent   int                          `db:"additional_sent"`
	UsageRefreshedAt sql.NullTime                 `db:"usage_refreshed_at"`
	// OverviewVersion and OverviewGlobal are the account's and the global
	// version as of the statement's snapshot (db/pagecache.go).
	OverviewVersion int64 `db:"overview_version"`
	OverviewGlobal  int64 `db:"overview_global"`
	staffExtras
	chargeExtras
}

// settledOverview is an account's overview as of now, scheduled changes
// settled, before its lists are read.
func settledOverview(row accountRow, cat billing.Catalog, now time.Time) (Overview, error) {
	m := billing.MonthOf(now)
	a := row.billing(m).Settle(now)
	o := Overview{ID: row.ID, Name: row.Name, Region: row.Region, Account: a, Catalog: cat, Now: now, MonthEnd: m.LastMoment()}
	var err error
	if o.Plan, err = cat.Plan(a.Plan); err != nil {
		return o, err
	}
	if a.ScheduledPlan != "" {
		p, err := cat.Plan(a.ScheduledPlan)
		if err != nil {
			return o, err
		}
		o.Scheduled = &p
	}
	if next, err := cat.Plan(a.PlanFor(m.Next())); err == nil && !next.Free() {
		o.NextRenewal = m.Next().Start()
	}
	return o, nil
}

func findInvoice(ctx context.Context, q sqlx.QueryerContext, accountID string) (*billing.InvoiceDetails, error) {
	var r invoiceDetailsRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT kind, carrier, company_title, tax_id, donation_code, email FROM einvoice_details WHERE account_id=$1`, accountID)
	if isNoRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return r.details(), nil
}

// invoiceDetailsRow is an einvoice_details row, scanned or decoded from the
// page statement's JSON.
type invoiceDetailsRow struct {
	Kind         string `db:"kind" json:"kind"`
	Carrier      string `db:"carrier" json:"carrier"`
	CompanyTitle string `db:"company_title" json:"company_title"`
	TaxID        string `db:"tax_id" json:"tax_id"`
	DonationCode string `db:"donation_code" json:"donation_code"`
	Email        string `db:"email" json:"email"`
}

func (r invoiceDetailsRow) details() *billing.InvoiceDetails {
	return &billing.InvoiceDetails{Kind: billing.InvoiceKind(r.Kind), Carrier: r.Carrier, CompanyTitle: r.CompanyTitle,
		TaxID: r.TaxID, DonationCode: r.DonationCode, Email: r.Email}
}

// SaveInvoiceDetails validates and stores an account's e-invoice details.
// Invalid details are refused with EInvalid and nothing is saved.
func (s *Store) SaveInvoiceDetails(ctx context.Context, actor Actor, accountID string, d billing.InvoiceDetails) (billing.InvoiceDetails, error) {
	d = d.Normalize()
	if err := d.Validate(); err != nil {
		return d, err
	}
	return d, s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if _, err := loadAccount(ctx, tx, accountID, billing.MonthOf(now), true); err != nil {
			return err
		}
		before, err := findInvoice(ctx, tx, accountID)
		if err != nil {
			return err
		}
		// The address is read by the user who gave it: mail to it goes in
		// their language. Saving the other details leaves it theirs.
		if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_details (account_id, kind, carrier, company_title, tax_id, donation_code, email, updated_at, email_user_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,(SELECT id FROM users WHERE login = $9))
			ON CONFLICT (account_id) DO UPDATE SET kind=EXCLUDED.kind, carrier=EXCLUDED.carrier, company_title=EXCLUDED.company_title,
				tax_id=EXCLUDED.tax_id, donation_code=EXCLUDED.donation_code, email=EXCLUDED.email, updated_at=EXCLUDED.updated_at,
				email_user_id = CASE WHEN einvoice_details.email <> EXCLUDED.email OR einvoice_details.email_user_id IS NULL
					THEN EXCLUDED.email_user_id ELSE einvoice_details.email_user_id END`,
			accountID, string(d.Kind), d.Carrier, d.CompanyTitle, d.TaxID, d.DonationCode, d.Email, now, actor.Login()); err != nil {
			return err
		}
		var b any
		if before != nil {
			b = before
		}
		return audit(ctx, tx, now, actor, accountID, "einvoice.saved", b, d)
	})
}

// RenameAccount changes an account's display name (帳號設定). Its region
// is not editable: it decides which campaigns the account may use.
func (s *Store) RenameAccount(ctx context.Context, actor Actor, accountID, name string) error {
	name, err := billing.CleanText("帳號名稱", name, billing.MaxAccountName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var before string
		if err := tx.GetContext(ctx, &before, `SELECT name FROM accounts WHERE id=$1 FOR UPDATE`, accountID); err != nil {
			if isNoRows(err) {
				return billing.Errorf(billing.EUnknownAccount, "%s", accountID)
			}
			return err
		}
		if before == name {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET name=$1 WHERE id=$2`, name, accountID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "account.renamed", map[string]string{"name": before}, map[string]string{"name": name})
	})
}
