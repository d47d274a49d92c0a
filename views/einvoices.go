package views

import (
	"time"

	"webstore/billing"
)

// 電子發票 and refunds as the console and the admin's consent page show
// them: screen-shaped values, every state already put in words.

// EInvoicesView is the console's 電子發票 page.
type EInvoicesView struct {
	// Alerts are the sentences staff must act on: periods running out of
	// numbers, invoices waiting for numbers.
	Alerts     []string
	Periods    []BookPeriod
	Messages   []MessageRow
	Allowances []AllowanceRow
	// Pasted is the CSV text sent with a refused import, shown again.
	Pasted string
}

// BookPeriod is one period's books.
type BookPeriod struct {
	Name    string // 11512
	Label   string // 115年11–12月
	Books   []BookRow
	Left    int
	Waiting int // invoices waiting for a number
	Note    string
}

// BookRow is one imported range.
type BookRow struct {
	Track, Range string
	Size         int
	Used, Left   int
}

// Message urgencies: a message not written whose deadline is near or past.
const (
	MessageNear    = "near"
	MessageOverdue = "overdue"
)

// MessageRow is one kept MIG message.
type MessageRow struct {
	ID                int64
	Type, TypeLabel   string
	Name              string
	EventAt, Deadline time.Time
	Written           time.Time // zero: not yet written
	Urgency           string    // "", MessageNear or MessageOverdue
}

// AllowanceRow is an allowance waiting for the admin's agreement.
type AllowanceRow struct {
	Number, AccountID, AccountName, Invoice string
	ChargeID, RefundID                      int64
	Total                                   billing.Money
	Expires                                 time.Time
	Expired                                 bool
}

// StaffChargeView is the console's page of one charge and its refunds.
type StaffChargeView struct {
	Charge      ChargeRow
	Catalog     billing.Catalog
	AccountID   string
	AccountName string
	PaidAt      time.Time // zero: not paid
	// Invoice is the charge's e-invoice in words; InvoiceNumber, its date
	// and random number when issued.
	Invoice        string
	InvoiceNumber  string
	InvoiceDate    time.Time
	InvoiceRandom  string
	Refunds        []RefundRow
	Refunded, Left billing.Money
	Refundable     bool   // a refund form is offered
	NotRefundable  string // why not, when not
	Key            string // the form's idempotency key
	Amount, Reason string // the form's values, shown again after a refusal
	Outcome        string // the latest refund's outcome in words
	OutcomeClass   string // notice or error
}

// RefundRow is one refund of a charge.
type RefundRow struct {
	ID          int64
	Amount      billing.Money
	Reason      string
	Status      string // in words
	StatusClass string // tag class
	Who         string
	When        time.Time
	Settled     time.Time // zero: not yet
	Detail      string    // provider's reference, or why it failed
}

// AllowanceConsentView is the admin's page to agree to an allowance.
type AllowanceConsentView struct {
	Valid       bool
	Agreed      bool
	Token       string
	AccountName string
	Invoice     string
	Total       billing.Money
	Expires     time.Time
	AgreedAt    time.Time
}
