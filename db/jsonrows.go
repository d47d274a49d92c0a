package db

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"webstore/billing"
)

// Rows nested in a page's one statement arrive as JSON (json_agg,
// row_to_json). These types decode them; PostgreSQL writes timestamptz in
// JSON as RFC 3339 and a date as YYYY-MM-DD.

// jsonList scans a JSON array (NULL: empty).
type jsonList[T any] []T

func (l *jsonList[T]) Scan(src any) error {
	*l = nil
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		return err
	}
	return json.Unmarshal(b, (*[]T)(l))
}

// jsonValue scans a JSON object, Valid false on NULL.
type jsonValue[T any] struct {
	V     T
	Valid bool
}

func (v *jsonValue[T]) Scan(src any) error {
	*v = jsonValue[T]{}
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		return err
	}
	v.Valid = true
	return json.Unmarshal(b, &v.V)
}

func jsonBytes(src any) ([]byte, error) {
	switch s := src.(type) {
	case nil:
		return nil, nil
	case []byte:
		return s, nil
	case string:
		return []byte(s), nil
	}
	return nil, fmt.Errorf("db: cannot scan %T as JSON", src)
}

// jsonDate is a DATE column in JSON.
type jsonDate struct{ time.Time }

func (d *jsonDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, s)
	d.Time = t
	return err
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

type methodJSON struct {
	ID        int64               `json:"id"`
	AccountID string              `json:"account_id"`
	Kind      billing.PaymentKind `json:"kind" db:"kind"`
	IsMain    bool                `json:"is_main"`
	Token     string              `json:"token"`
	Label     string              `json:"label"`
	Brand     string              `json:"brand"`
	Last4     string              `json:"last4"`
	Expiry    string              `json:"expiry"`
	CreatedAt time.Time           `json:"created_at"`
}

func (m methodJSON) method() PaymentMethod {
	return PaymentMethod(m)
}

type invoiceJSON struct {
	Kind         string `json:"kind" db:"kind"`
	Carrier      string `json:"carrier" db:"carrier"`
	CompanyTitle string `json:"company_title" db:"company_title"`
	TaxID        string `json:"tax_id" db:"tax_id"`
	DonationCode string `json:"donation_code" db:"donation_code"`
	Email        string `json:"email" db:"email"`
}

func (r invoiceJSON) details() *billing.InvoiceDetails {
	return &billing.InvoiceDetails{Kind: billing.InvoiceKind(r.Kind), Carrier: r.Carrier, CompanyTitle: r.CompanyTitle,
		TaxID: r.TaxID, DonationCode: r.DonationCode, Email: r.Email}
}

type codeJSON struct {
	Code         string     `json:"code"`
	CampaignID   string     `json:"campaign_id"`
	AccountID    *string    `json:"account_id"`
	Status       string     `json:"status"`
	Display      string     `json:"display"`
	RegisteredAt *time.Time `json:"registered_at"`
	RedeemedAt   *time.Time `json:"redeemed_at"`
	ChargeID     *int64     `json:"charge_id"`
}

func (r codeJSON) row() codeRow {
	c := codeRow{Code: r.Code, CampaignID: r.CampaignID, Status: r.Status, Display: r.Display,
		RegisteredAt: nullTime(r.RegisteredAt), RedeemedAt: nullTime(r.RedeemedAt)}
	if r.AccountID != nil {
		c.AccountID = sql.NullString{String: *r.AccountID, Valid: true}
	}
	if r.ChargeID != nil {
		c.ChargeID = sql.NullInt64{Int64: *r.ChargeID, Valid: true}
	}
	return c
}

// chargeJSON is a row of chargeCols.
type chargeJSON struct {
	ID            int64                `json:"id"`
	AccountID     string               `json:"account_id"`
	Kind          billing.ChargeKind   `json:"kind"`
	Month         jsonDate             `json:"month"`
	EffectiveAt   time.Time            `json:"effective_at"`
	FromPlan      billing.PlanID       `json:"from_plan"`
	Plan          billing.PlanID       `json:"plan"`
	Amount        billing.Money        `json:"amount"`
	Offset        billing.Money        `json:"offset_amount"`
	Forfeited     billing.Money        `json:"forfeited"`
	Net           billing.Money        `json:"net"`
	Tax           billing.Money        `json:"tax"`
	Total         billing.Money        `json:"total"`
	Code          string               `json:"code"`
	CodeDisplay   string               `json:"code_display"`
	Status        billing.ChargeStatus `json:"status"`
	Failure       string               `json:"failure"`
	FailureDetail string               `json:"failure_detail"`
	Attempts      int                  `json:"attempts"`
	AskedAt       *time.Time           `json:"asked_at"`
	NextRetryAt   *time.Time           `json:"next_retry_at"`
	PaymentID     *int64               `json:"payment_method_id"`
	PaymentKind   string               `json:"payment_kind"`
	PaymentRef    string               `json:"payment_ref"`
	Invoice       string               `json:"invoice_number"`
	CreatedAt     time.Time            `json:"created_at"`
	PaidAt        *time.Time           `json:"paid_at"`
}

func (r chargeJSON) charge() Charge {
	c := Charge{ID: r.ID, AccountID: r.AccountID, Kind: r.Kind, MonthDate: r.Month.Time, EffectiveAt: r.EffectiveAt,
		FromPlan: r.FromPlan, Plan: r.Plan, Amount: r.Amount, Offset: r.Offset, Forfeited: r.Forfeited, Net: r.Net,
		Tax: r.Tax, Total: r.Total, Code: r.Code, CodeDisplay: r.CodeDisplay, Status: r.Status, Failure: r.Failure,
		FailureDetail: r.FailureDetail, Attempts: r.Attempts, AskedAt: nullTime(r.AskedAt), NextRetryAt: nullTime(r.NextRetryAt),
		PaymentKind: r.PaymentKind, PaymentRef: r.PaymentRef, Invoice: r.Invoice, CreatedAt: r.CreatedAt, PaidAt: nullTime(r.PaidAt)}
	if r.PaymentID != nil {
		c.PaymentID = sql.NullInt64{Int64: *r.PaymentID, Valid: true}
	}
	return c
}
