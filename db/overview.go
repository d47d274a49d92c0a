package db

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"

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
	Catalog  billing.Catalog
	Now      time.Time
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

// FindOverview reads everything the plan and checkout pages show.
func (s *Store) FindOverview(ctx context.Context, accountID string) (Overview, error) {
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Overview{}, err
	}
	defer tx.Rollback()
	now := s.Clock.Now()
	m := billing.MonthOf(now)
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return Overview{}, err
	}
	row, err := loadAccount(ctx, tx, accountID, m, false)
	if err != nil {
		return Overview{}, err
	}
	a := row.billing(m).Settle(now)
	o := Overview{ID: row.ID, Name: row.Name, Region: row.Region, Account: a, Catalog: cat, Now: now, MonthEnd: m.LastMoment()}
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
	if next, err := cat.Plan(a.PlanFor(m.Next())); err == nil && next.Fee > 0 {
		o.NextRenewal = m.Next().Start()
	}
	if err := tx.SelectContext(ctx, &o.Methods, `SELECT id, account_id, kind, is_main, token, label, brand, last4, expiry, created_at
		FROM payment_methods WHERE account_id=$1 AND removed_at IS NULL ORDER BY is_main DESC, id`, accountID); err != nil {
		return o, err
	}
	if o.Invoice, err = findInvoice(ctx, tx, accountID); err != nil {
		return o, err
	}
	var cr codeRow
	err = tx.GetContext(ctx, &cr, `SELECT `+codeCols+` FROM promo_codes WHERE account_id=$1 ORDER BY registered_at DESC LIMIT 1`, accountID)
	if err == nil {
		c, err := findCampaign(ctx, tx, cr.CampaignID)
		if err != nil {
			return o, err
		}
		o.Code = &RegisteredCode{Code: cr.Code, Display: cr.Display, Campaign: c, Status: cr.billing().StatusAt(c, now),
			Registered: cr.RegisteredAt.Time, Redeemed: cr.RedeemedAt.Time, ChargeID: cr.ChargeID.Int64}
	} else if !isNoRows(err) {
		return o, err
	}
	return o, nil
}

func findInvoice(ctx context.Context, q sqlx.QueryerContext, accountID string) (*billing.InvoiceDetails, error) {
	var r struct {
		Kind         string `db:"kind"`
		Carrier      string `db:"carrier"`
		CompanyTitle string `db:"company_title"`
		TaxID        string `db:"tax_id"`
		DonationCode string `db:"donation_code"`
		Email        string `db:"email"`
	}
	err := sqlx.GetContext(ctx, q, &r, `SELECT kind, carrier, company_title, tax_id, donation_code, email FROM einvoice_details WHERE account_id=$1`, accountID)
	if isNoRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &billing.InvoiceDetails{Kind: billing.InvoiceKind(r.Kind), Carrier: r.Carrier, CompanyTitle: r.CompanyTitle,
		TaxID: r.TaxID, DonationCode: r.DonationCode, Email: r.Email}, nil
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_details (account_id, kind, carrier, company_title, tax_id, donation_code, email, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
			ON CONFLICT (account_id) DO UPDATE SET kind=EXCLUDED.kind, carrier=EXCLUDED.carrier, company_title=EXCLUDED.company_title,
				tax_id=EXCLUDED.tax_id, donation_code=EXCLUDED.donation_code, email=EXCLUDED.email, updated_at=EXCLUDED.updated_at`,
			accountID, string(d.Kind), d.Carrier, d.CompanyTitle, d.TaxID, d.DonationCode, d.Email, now); err != nil {
			return err
		}
		var b any
		if before != nil {
			b = before
		}
		return audit(ctx, tx, now, actor, accountID, "einvoice.saved", b, d)
	})
}

// maxAccountName is the longest account name, in characters.
const maxAccountName = 40

// RenameAccount changes an account's display name (帳號設定). Its region
// is not editable: it decides which campaigns the account may use.
func (s *Store) RenameAccount(ctx context.Context, actor Actor, accountID, name string) error {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxAccountName {
		return billing.Errorf(billing.EInvalid, "帳號名稱須為 1 至 %d 個字。", maxAccountName)
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
