package db

import (
	"context"
	"errors"

	"webstore/billing"
)

// What the staff console and the mails read of e-invoices: the number
// books with what is left of them, the invoices waiting for numbers, and
// one charge's invoice.

// BookSummary is one imported number range and how far it is used.
type BookSummary struct {
	Period string `db:"period" json:"period"`
	Track  string `db:"track" json:"track"`
	First  int    `db:"first_no" json:"first_no"`
	Last   int    `db:"last_no" json:"last_no"`
	Next   int    `db:"next_no" json:"next_no"`
}

// Used is how many of the book's numbers were given out.
func (b BookSummary) Used() int { return b.Next - b.First }

// Left is how many are still unused.
func (b BookSummary) Left() int { return b.Last + 1 - b.Next }

// PeriodWaiting is how many invoices of a period wait for a number.
type PeriodWaiting struct {
	Period  string `db:"period" json:"period"`
	Waiting int    `db:"waiting" json:"waiting"`
}

// EInvoiceConsole is what the console's 電子發票 page shows.
type EInvoiceConsole struct {
	Books   []BookSummary   // newest period first
	Waiting []PeriodWaiting // periods with invoices waiting for numbers
	// Messages are the latest 200 kept, newest first, without bodies.
	Messages []EInvoiceMessage
	// Allowances wait for an admin's agreement, oldest first.
	Allowances []Allowance
}

// EInvoiceConsolePage reads the 電子發票 page in one statement.
func (s *Store) EInvoiceConsolePage(ctx context.Context) (EInvoiceConsole, error) {
	var out struct {
		Books      jsonList[BookSummary]     `db:"books"`
		Waiting    jsonList[PeriodWaiting]   `db:"waiting"`
		Messages   jsonList[EInvoiceMessage] `db:"messages"`
		Allowances jsonList[Allowance]       `db:"allowances"`
	}
	err := s.DB.GetContext(ctx, &out, `SELECT
		(SELECT json_agg(b ORDER BY b.period DESC, b.track, b.first_no) FROM
			(SELECT period, track, first_no, last_no, next_no FROM einvoice_books) b) AS books,
		(SELECT json_agg(w ORDER BY w.period) FROM
			(SELECT period, count(*) AS waiting FROM einvoices WHERE status = 'waiting' GROUP BY period) w) AS waiting,
		(SELECT json_agg(m ORDER BY m.id DESC) FROM
			(SELECT id, type, name, charge_id, refund_id, event_at, deadline, written_at, created_at
			FROM einvoice_messages ORDER BY id DESC LIMIT 200) m) AS messages,
		(SELECT json_agg(x ORDER BY x.created_at) FROM
			(SELECT `+allowanceCols+allowanceFrom+`WHERE al.status = 'awaiting_consent') x) AS allowances`)
	return EInvoiceConsole{Books: out.Books, Waiting: out.Waiting, Messages: out.Messages, Allowances: out.Allowances}, err
}

// ErrNoInvoice is InvoiceOf's answer for a charge without an e-invoice.
var ErrNoInvoice = errors.New("the charge has no e-invoice")

// invoiceOf reads, as JSON, the Invoice of the charge that cond (on
// einvoices e) selects.
func invoiceOf(cond string) string {
	return `(SELECT row_to_json(i) FROM (SELECT e.charge_id, coalesce(e.number, '') AS number, e.status, e.invoice_at,
		coalesce(e.random_number, '') AS random_number, e.b2b, e.buyer_ban, e.buyer_name, e.carrier_type, e.carrier_id, e.npoban,
		e.print_mark, e.description, e.net, e.tax, e.total, e.cancelled_at,
		(SELECT coalesce(sum(total), 0) FROM einvoice_allowances al WHERE al.charge_id = e.charge_id) AS allowed
		FROM einvoices e WHERE ` + cond + `) i)`
}

// InvoiceOf returns the e-invoice of charge chargeID: ErrNoInvoice when
// the charge has none (nothing was paid, or it is not paid yet).
func (s *Store) InvoiceOf(ctx context.Context, chargeID int64) (Invoice, error) {
	var inv jsonValue[Invoice]
	err := s.DB.GetContext(ctx, &inv, `SELECT `+invoiceOf(`e.charge_id = $1`), chargeID)
	if err == nil && !inv.Valid {
		return Invoice{}, ErrNoInvoice
	}
	return inv.V, err
}

// ErrNoAllowance is AllowanceOfRefund's answer for a refund that made no
// allowance (it cancelled the invoice, or the charge had none).
var ErrNoAllowance = errors.New("the refund made no allowance")

// AllowanceOfRefund returns the allowance refund refundID made, as it
// stands now (issued, or waiting for the admin's agreement).
func (s *Store) AllowanceOfRefund(ctx context.Context, refundID int64) (Allowance, error) {
	var al Allowance
	err := s.DB.GetContext(ctx, &al, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.refund_id = $1`, refundID)
	if isNoRows(err) {
		return al, ErrNoAllowance
	}
	return al, err
}

// StaffCharge is the console's page of one charge: the charge, its
// account's name, its refunds (oldest first) and its e-invoice (nil when
// it has none).
type StaffCharge struct {
	Charge
	AccountName string
	Refunds     []Refund
	EInvoice    *Invoice
}

// StaffChargePage reads one charge's page in one statement: EInvalid when
// there is no such charge.
func (s *Store) StaffChargePage(ctx context.Context, id int64) (StaffCharge, error) {
	var row struct {
		Charge
		AccountName string             `db:"account_name"`
		Refunds     jsonList[Refund]   `db:"refunds"`
		Invoice     jsonValue[Invoice] `db:"invoice"`
	}
	err := s.DB.GetContext(ctx, &row, `SELECT `+chargeCols+`,
		(SELECT a.name FROM accounts a WHERE a.id = charges.account_id) AS account_name,
		(SELECT json_agg(r ORDER BY r.id) FROM (SELECT id, charge_id, account_id, amount, reason, status, idempotency_key AS key, requested_by,
			payment_kind, attempts, provider_ref, failure, failure_detail, created_at, asked_at, settled_at
			FROM refunds WHERE refunds.charge_id = charges.id) r) AS refunds,
		`+invoiceOf(`e.charge_id = charges.id`)+` AS invoice
		FROM charges WHERE id = $1`, id)
	if isNoRows(err) {
		return StaffCharge{}, billing.Errorf(billing.EInvalid, "找不到這筆付款記錄")
	} else if err != nil {
		return StaffCharge{}, err
	}
	sc := StaffCharge{Charge: row.Charge, AccountName: row.AccountName, Refunds: row.Refunds}
	if row.Invoice.Valid {
		inv := row.Invoice.V
		sc.EInvoice = &inv
	}
	return sc, nil
}
