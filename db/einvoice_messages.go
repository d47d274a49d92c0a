package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
	"webstore/billing/mig"
)

// EInvoiceMessage is a MIG message the store wrote for Turnkey: kept here
// with its body, written once as <dir>/<Type>/<Name>.xml (cmd/webstore:
// einvoice export).
type EInvoiceMessage struct {
	ID        int64      `db:"id" json:"id"`
	Type      string     `db:"type" json:"type"`
	Name      string     `db:"name" json:"name"`
	Period    string     `db:"period" json:"period"`
	ChargeID  *int64     `db:"charge_id" json:"charge_id,omitempty"`
	RefundID  *int64     `db:"refund_id" json:"refund_id,omitempty"`
	EventAt   time.Time  `db:"event_at" json:"event_at"`
	Deadline  time.Time  `db:"deadline" json:"deadline"`
	Body      string     `db:"body" json:"-"`
	WrittenAt *time.Time `db:"written_at" json:"written_at,omitempty"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
}

const messageCols = `id, type, name, period, charge_id, refund_id, event_at, deadline, body, written_at, created_at`

// queueMessage keeps message m about an invoice of period (the reported
// period, for E0402), about event at, due on the platform by
// billing.UploadDeadline. A message is kept once: the same type, name and
// period twice is an error.
func queueMessage(ctx context.Context, tx *sqlx.Tx, now time.Time, m mig.Message, period string, event time.Time, b2b bool, chargeID, refundID *int64) error {
	body, err := m.XML()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO einvoice_messages (type, name, period, charge_id, refund_id, event_at, deadline, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.Type(), m.Number(), period, chargeID, refundID, event, billing.UploadDeadline(event, b2b), string(body), now)
	return err
}

// sellerParty is the seller as MIG names it.
func (s *Store) sellerParty() mig.Party {
	sl := s.seller()
	return mig.Party{Identifier: sl.BAN, Name: sl.Name}
}

// f0401 is an issued invoice's message.
func (s *Store) f0401(inv invoiceRow) (mig.F0401, error) {
	amounts, err := billing.InvoiceAmountsFor(inv.Net, inv.Tax, inv.Total, inv.B2B)
	if err != nil {
		return mig.F0401{}, err
	}
	return mig.F0401{
		InvoiceNumber: billing.InvoiceNumber(inv.Number.String), Issued: inv.InvoiceAt, Seller: s.sellerParty(),
		Buyer:   mig.Party{Identifier: inv.BuyerBAN, Name: inv.BuyerName},
		Carrier: mig.Carrier{Type: inv.CarrierType, ID: inv.CarrierID}, NPOBAN: inv.NPOBAN,
		RandomNumber: inv.RandomNumber.String, Description: inv.Description, Amounts: amounts,
	}, nil
}

// issued keeps the F0401 of an invoice just given its number.
func (s *Store) issued(ctx context.Context, tx *sqlx.Tx, now time.Time, inv invoiceRow) error {
	m, err := s.f0401(inv)
	if err != nil {
		return err
	}
	id := inv.ChargeID
	return queueMessage(ctx, tx, now, m, inv.Period, now, inv.B2B, &id, nil)
}

// UnwrittenMessages lists up to limit messages not yet written, oldest
// first.
func (s *Store) UnwrittenMessages(ctx context.Context, limit int) ([]EInvoiceMessage, error) {
	var ms []EInvoiceMessage
	err := s.DB.SelectContext(ctx, &ms, `SELECT `+messageCols+` FROM einvoice_messages WHERE written_at IS NULL ORDER BY id LIMIT $1`, limit)
	return ms, err
}

// MarkMessageWritten records that message id's file is in place.
func (s *Store) MarkMessageWritten(ctx context.Context, id int64) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE einvoice_messages SET written_at = $2 WHERE id = $1 AND written_at IS NULL`, id, s.Clock.Now())
	return err
}

// MessageFilter selects the console's list of messages.
type MessageFilter struct {
	Unwritten bool // only those not yet written
	Limit     int
}

// EInvoiceMessages lists messages, newest first, without their bodies.
func (s *Store) EInvoiceMessages(ctx context.Context, f MessageFilter) ([]EInvoiceMessage, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var ms []EInvoiceMessage
	err := s.DB.SelectContext(ctx, &ms, `SELECT id, type, name, period, charge_id, refund_id, event_at, deadline, '' AS body, written_at, created_at
		FROM einvoice_messages WHERE NOT $1 OR written_at IS NULL ORDER BY id DESC LIMIT $2`, f.Unwritten, f.Limit)
	return ms, err
}

// EInvoiceMessage returns one message with its body.
func (s *Store) EInvoiceMessage(ctx context.Context, id int64) (EInvoiceMessage, error) {
	var m EInvoiceMessage
	err := s.DB.GetContext(ctx, &m, `SELECT `+messageCols+` FROM einvoice_messages WHERE id = $1`, id)
	if isNoRows(err) {
		return m, billing.Errorf(billing.EInvalid, "找不到這則電子發票訊息")
	}
	return m, err
}

// ReportBlanks keeps the E0402 of every period that has ended by now (its
// blank report day, the 1st of the next period, has come) and has none
// yet: the numbers of its books never used. Returns how many it kept.
func (s *Store) ReportBlanks(ctx context.Context, actor Actor) (int, error) {
	var periods []string
	now := s.Clock.Now()
	if err := s.DB.SelectContext(ctx, &periods, `SELECT period FROM einvoice_periods WHERE blanks_reported_at IS NULL ORDER BY period`); err != nil {
		return 0, err
	}
	kept := 0
	for _, name := range periods {
		p, err := billing.ParseInvoicePeriod(name)
		if err != nil {
			return kept, err
		}
		if now.Before(p.BlankReportDay()) {
			continue
		}
		err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
			if _, err := lockPeriod(ctx, tx, name); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE einvoice_periods SET blanks_reported_at = $2 WHERE period = $1 AND blanks_reported_at IS NULL`, name, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // reported meanwhile
			}
			var books []struct {
				Track string `db:"track"`
				First int    `db:"first_no"`
				Last  int    `db:"last_no"`
			}
			if err := tx.SelectContext(ctx, &books, `SELECT track, first_no, last_no FROM einvoice_books WHERE period = $1`, name); err != nil {
				return err
			}
			var used pq.StringArray
			if err := tx.GetContext(ctx, &used, `SELECT coalesce(array_agg(number), '{}') FROM einvoices WHERE period = $1 AND number IS NOT NULL`, name); err != nil {
				return err
			}
			ranges := make([]billing.BookRange, len(books))
			for i, b := range books {
				ranges[i] = billing.BookRange{Period: p, Track: b.Track, Begin: b.First, End: b.Last}
			}
			numbers := make([]billing.InvoiceNumber, len(used))
			for i, n := range used {
				numbers[i] = billing.InvoiceNumber(n)
			}
			seller := s.seller()
			for _, m := range mig.BlankReports(seller.BAN, seller.BAN, p, ranges, numbers) {
				if err := queueMessage(ctx, tx, now, m, name, now, true, nil, nil); err != nil {
					return err
				}
				kept++
			}
			return audit(ctx, tx, now, actor, "", "einvoice.blanks_reported", nil, map[string]any{"period": name})
		})
		if err != nil {
			return kept, err
		}
	}
	return kept, nil
}
