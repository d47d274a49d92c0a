package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/billing/mig"
)

// AllowanceConsentTTL is how long the admin's link to agree to a person's
// allowance works.
const AllowanceConsentTTL = 72 * time.Hour

// Allowance is an einvoice_allowances row, with its invoice.
type Allowance struct {
	Number         string        `db:"number" json:"number"`
	RefundID       int64         `db:"refund_id" json:"refund_id"`
	ChargeID       int64         `db:"charge_id" json:"charge_id"`
	AccountID      string        `db:"account_id" json:"account_id"`
	AccountName    string        `db:"account_name" json:"account_name"`
	Invoice        string        `db:"invoice_number" json:"invoice_number"`
	Net            billing.Money `db:"net" json:"net"`
	Tax            billing.Money `db:"tax" json:"tax"`
	Total          billing.Money `db:"total" json:"total"`
	Status         string        `db:"status" json:"status"` // awaiting_consent or issued
	ConsentExpires *time.Time    `db:"consent_expires" json:"consent_expires,omitempty"`
	AgreedAt       *time.Time    `db:"agreed_at" json:"agreed_at,omitempty"`
	IssuedAt       *time.Time    `db:"issued_at" json:"issued_at,omitempty"`
	CreatedAt      time.Time     `db:"created_at" json:"created_at"`
}

const allowanceCols = `al.number, al.refund_id, al.charge_id, e.account_id, a.name AS account_name, e.number AS invoice_number,
	al.net, al.tax, al.total, al.status, al.consent_expires, al.agreed_at, al.issued_at, al.created_at`

const allowanceFrom = ` FROM einvoice_allowances al JOIN einvoices e ON e.charge_id = al.charge_id JOIN accounts a ON a.id = e.account_id `

// refundInvoice records what a succeeded refund does to its charge's
// invoice (billing.DecideRefund): a full refund before the cancel deadline
// cancels it (F0501); otherwise an allowance (G0401) is made, issued at
// once to a company and, for a person, once the admin agrees through the
// e-mailed link. A charge with no invoice (nothing was paid) has nothing
// to do.
func (s *Store) refundInvoice(ctx context.Context, tx *sqlx.Tx, now time.Time, r Refund) error {
	var inv invoiceRow
	err := tx.GetContext(ctx, &inv, `SELECT `+invoiceCols+` FROM einvoices WHERE charge_id=$1 FOR UPDATE`, r.ChargeID)
	if isNoRows(err) {
		return nil
	} else if err != nil {
		return err
	}
	if inv.Status != "issued" {
		return billing.Errorf(billing.EInvalid, "charge %d: its invoice is %s, not issued", r.ChargeID, inv.Status)
	}
	// What is left of the invoice: its total less the allowances made.
	var allowed billing.Money
	var count int
	if err := tx.QueryRowxContext(ctx, `SELECT coalesce(sum(total), 0), count(*) FROM einvoice_allowances WHERE charge_id=$1`, r.ChargeID).Scan(&allowed, &count); err != nil {
		return err
	}
	d, err := billing.DecideRefund(inv.InvoiceAt, inv.Total-allowed, r.Amount, now, inv.B2B)
	if err != nil {
		return err
	}
	if d.Message == billing.RefundCancel && count == 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE einvoices SET status='cancelled', cancelled_at=$2 WHERE charge_id=$1`, r.ChargeID, now); err != nil {
			return err
		}
		id, rid := r.ChargeID, r.ID
		return queueMessage(ctx, tx, now, mig.F0501{InvoiceNumber: billing.InvoiceNumber(inv.Number.String), Issued: inv.InvoiceAt,
			BuyerID: inv.BuyerBAN, SellerID: s.seller().BAN, Cancelled: now, Reason: mig.Cap(r.Reason, mig.MaxCancelReason)},
			inv.Period, now, inv.B2B, &id, &rid)
	}
	if d.Message == billing.RefundCancel {
		// The rest of an invoice already allowed against: an allowance too.
		d.Net, d.Tax = billing.SplitRefund(r.Amount)
		d.NeedsAgreement = !inv.B2B
	}
	number, err := billing.AllowanceNumber(billing.InvoiceNumber(inv.Number.String), count+1)
	if err != nil {
		return err
	}
	if !d.NeedsAgreement {
		if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_allowances (number, refund_id, charge_id, net, tax, total, status, issued_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'issued', $7, $7)`, number, r.ID, r.ChargeID, d.Net, d.Tax, r.Amount, now); err != nil {
			return err
		}
		return s.allowanceIssued(ctx, tx, now, inv, number, r.ID, d.Net, d.Tax)
	}
	tok := NewToken()
	if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_allowances (number, refund_id, charge_id, net, tax, total, status, consent_hash, consent_expires, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'awaiting_consent', $7, $8, $9)`,
		number, r.ID, r.ChargeID, d.Net, d.Tax, r.Amount, hashToken(tok), now.Add(AllowanceConsentTTL), now); err != nil {
		return err
	}
	return queueMail(ctx, tx, now, MailAllowanceAsk, []string{r.AccountID}, []string{"allowance:" + number},
		[]MailParams{{ChargeID: r.ChargeID, RefundID: r.ID, Total: int64(r.Amount), Link: AllowancePath(tok), Until: now.Add(AllowanceConsentTTL)}})
}

// AllowancePath is the path (under BASE_URL) of the page where an admin
// agrees to an allowance, from the e-mailed token.
func AllowancePath(token string) string { return "/einvoice/allowances/" + token }

// allowanceIssued keeps an allowance's G0401.
func (s *Store) allowanceIssued(ctx context.Context, tx *sqlx.Tx, now time.Time, inv invoiceRow, number string, refundID int64, net, tax billing.Money) error {
	id, rid := inv.ChargeID, refundID
	return queueMessage(ctx, tx, now, mig.G0401{AllowanceNumber: number, Date: now, Seller: s.sellerParty(),
		Buyer: mig.Party{Identifier: inv.BuyerBAN, Name: inv.BuyerName}, InvoiceNumber: billing.InvoiceNumber(inv.Number.String),
		InvoiceIssued: inv.InvoiceAt, InvoiceDescription: inv.Description, Net: net, Tax: tax}, inv.Period, now, inv.B2B, &id, &rid)
}

// FindAllowance returns the allowance an e-mailed link's token opens:
// EInvitationInvalid for no such link, EInvitationExpired once it has
// expired unanswered.
func (s *Store) FindAllowance(ctx context.Context, token string) (Allowance, error) {
	var al Allowance
	err := s.DB.GetContext(ctx, &al, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.consent_hash = $1`, hashToken(token))
	if isNoRows(err) {
		return al, billing.Errorf(billing.EInvitationInvalid, "此連結無效。")
	}
	if err == nil && al.Status == "awaiting_consent" && !s.Clock.Now().Before(*al.ConsentExpires) {
		return al, billing.Errorf(billing.EInvitationExpired, "此連結已過期,請與客服聯絡。")
	}
	return al, err
}

// AgreeAllowance records the admin's agreement to an allowance (the link's
// token) and issues it (G0401). Agreeing again answers with the allowance
// as issued.
func (s *Store) AgreeAllowance(ctx context.Context, actor Actor, token string) (Allowance, error) {
	var al Allowance
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		err := tx.GetContext(ctx, &al, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.consent_hash = $1 FOR UPDATE OF al`, hashToken(token))
		if isNoRows(err) {
			return billing.Errorf(billing.EInvitationInvalid, "此連結無效。")
		} else if err != nil || al.Status == "issued" {
			return err
		}
		if !now.Before(*al.ConsentExpires) {
			return billing.Errorf(billing.EInvitationExpired, "此連結已過期,請與客服聯絡。")
		}
		var inv invoiceRow
		if err := tx.GetContext(ctx, &inv, `SELECT `+invoiceCols+` FROM einvoices WHERE charge_id=$1`, al.ChargeID); err != nil {
			return err
		}
		before := al
		if err := tx.GetContext(ctx, &al, `WITH u AS (UPDATE einvoice_allowances SET status='issued', agreed_at=$2, issued_at=$2 WHERE refund_id=$1 RETURNING *)
			SELECT `+allowanceCols+` FROM u al JOIN einvoices e ON e.charge_id = al.charge_id JOIN accounts a ON a.id = e.account_id`, al.RefundID, now); err != nil {
			return err
		}
		if err := s.allowanceIssued(ctx, tx, now, inv, al.Number, al.RefundID, al.Net, al.Tax); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, al.AccountID, "einvoice.allowance_agreed", before, al)
	})
	return al, err
}

// WaitingAllowances lists the allowances still waiting for an admin's
// agreement, oldest first.
func (s *Store) WaitingAllowances(ctx context.Context) ([]Allowance, error) {
	var als []Allowance
	err := s.DB.SelectContext(ctx, &als, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.status = 'awaiting_consent' ORDER BY al.created_at`)
	return als, err
}

// ResendAllowanceLink gives a person's allowance still waiting for the
// admin's agreement (the refund's) a new link, working AllowanceConsentTTL
// from now, and e-mails it; the old link stops working. EInvalid when the
// allowance is issued already or there is none.
func (s *Store) ResendAllowanceLink(ctx context.Context, actor Actor, refundID int64) (Allowance, error) {
	var al Allowance
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		err := tx.GetContext(ctx, &al, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.refund_id = $1 FOR UPDATE OF al`, refundID)
		if isNoRows(err) {
			return billing.Errorf(billing.EInvalid, "找不到這筆折讓。")
		} else if err != nil {
			return err
		}
		if al.Status != "awaiting_consent" {
			return billing.Errorf(billing.EInvalid, "折讓 %s 已開立,不需再寄送同意連結。", al.Number)
		}
		before := al
		tok := NewToken()
		until := now.Add(AllowanceConsentTTL)
		if _, err := tx.ExecContext(ctx, `UPDATE einvoice_allowances SET consent_hash=$2, consent_expires=$3 WHERE refund_id=$1`,
			refundID, hashToken(tok), until); err != nil {
			return err
		}
		al.ConsentExpires = &until
		if err := queueMail(ctx, tx, now, MailAllowanceAsk, []string{al.AccountID}, []string{"allowance:" + al.Number + ":" + now.Format(time.RFC3339Nano)},
			[]MailParams{{ChargeID: al.ChargeID, RefundID: refundID, Total: int64(al.Total), Link: AllowancePath(tok), Until: until}}); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, al.AccountID, "einvoice.allowance_link_resent", before, al)
	})
	return al, err
}
