package db

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
	"webstore/billing/mig"
)

// Taiwan e-invoices (../shared/spec/EINVOICE.md). Every charge paid with a
// total above 0 gets its invoice in the transaction that pays it (payOff):
// the buyer as the account's 電子發票資訊 reads then, and the next number of
// the period containing the instant it was paid. Numbers are taken under
// the period's row lock (einvoice_periods), so they go out in order with no
// gap and none twice across servers, and a rollback gives its number back.
// With no number left the invoice waits, and ImportBooks issues it.

// invoiceRow is an einvoices row.
type invoiceRow struct {
	ChargeID     int64          `db:"charge_id"`
	AccountID    string         `db:"account_id"`
	Period       string         `db:"period"`
	Number       sql.NullString `db:"number"`
	BookID       sql.NullInt64  `db:"book_id"`
	Status       string         `db:"status"`
	InvoiceAt    time.Time      `db:"invoice_at"`
	IssuedAt     sql.NullTime   `db:"issued_at"`
	RandomNumber sql.NullString `db:"random_number"`
	B2B          bool           `db:"b2b"`
	BuyerBAN     string         `db:"buyer_ban"`
	BuyerName    string         `db:"buyer_name"`
	CarrierType  string         `db:"carrier_type"`
	CarrierID    string         `db:"carrier_id"`
	NPOBAN       string         `db:"npoban"`
	PrintMark    string         `db:"print_mark"`
	Description  string         `db:"description"`
	Net          billing.Money  `db:"net"`
	Tax          billing.Money  `db:"tax"`
	Total        billing.Money  `db:"total"`
}

const invoiceCols = `charge_id, account_id, period, number, book_id, status, invoice_at, issued_at, random_number, b2b,
	buyer_ban, buyer_name, carrier_type, carrier_id, npoban, print_mark, description, net, tax, total`

// seller is the store's seller, the demo seller when none was set (tests,
// development).
func (s *Store) seller() billing.Seller {
	if s.Seller.BAN == "" {
		return billing.DemoSeller
	}
	return s.Seller
}

// newInvoice is the invoice of charge ch, about to be paid at now, with
// the account's 電子發票資訊 as it reads now. Its number is not taken yet.
func (s *Store) newInvoice(ctx context.Context, tx *sqlx.Tx, now time.Time, cat billing.Catalog, ch Charge) (invoiceRow, error) {
	var acct struct {
		Name string `db:"name"`
		invoiceDetailsRow
		Has bool `db:"has"`
	}
	err := tx.GetContext(ctx, &acct, `SELECT a.name, e.account_id IS NOT NULL AS has, coalesce(e.kind,'') AS kind, coalesce(e.carrier,'') AS carrier,
		coalesce(e.company_title,'') AS company_title, coalesce(e.tax_id,'') AS tax_id, coalesce(e.donation_code,'') AS donation_code,
		coalesce(e.email,'') AS email
		FROM accounts a LEFT JOIN einvoice_details e ON e.account_id = a.id WHERE a.id = $1`, ch.AccountID)
	if err != nil {
		return invoiceRow{}, fmt.Errorf("e-invoice buyer of %s: %w", ch.AccountID, err)
	}
	details := billing.InvoiceDetails{Kind: billing.InvoiceMember}
	if acct.Has {
		details = *acct.invoiceDetailsRow.details()
	}
	seller := s.seller()
	buyer, carrier, npoban := mig.Buyer(details, acct.Name, seller.MemberCarrierType, ch.AccountID)
	b2b := buyer.Identifier != billing.B2CBuyerID
	print := "N"
	if b2b {
		print = "Y"
	}
	return invoiceRow{
		ChargeID: ch.ID, AccountID: ch.AccountID, Period: billing.InvoicePeriodOf(now).String(), Status: "waiting", InvoiceAt: now,
		B2B: b2b, BuyerBAN: buyer.Identifier, BuyerName: buyer.Name, CarrierType: carrier.Type, CarrierID: carrier.ID, NPOBAN: npoban,
		PrintMark: print, Description: invoiceDescription(cat, ch), Net: ch.Net, Tax: ch.Tax, Total: ch.Total,
	}, nil
}

// invoiceDescription is the one item of a charge's invoice: 「LINE官方帳號
// 高用量 2026/12」, 「… 升級差額」 for an upgrade, 「LINE官方帳號 加購訊息
// 2026/11」 for additional messages.
func invoiceDescription(cat billing.Catalog, ch Charge) string {
	if ch.Kind == billing.KindUsage {
		return mig.ItemDescription("加購訊息", ch.Month(), "")
	}
	plan, _ := cat.Plan(ch.Plan)
	kind := ""
	if ch.Kind == billing.KindUpgrade {
		kind = "升級差額"
	}
	return mig.ItemDescription(plan.NameZH, ch.Month(), kind)
}

// book is an einvoice_books row with numbers left.
type book struct {
	ID     int64  `db:"id"`
	Track  string `db:"track"`
	NextNo int    `db:"next_no"`
	LastNo int    `db:"last_no"`
}

// lockPeriod takes the lock of period's numbers and returns its books with
// numbers left, in the order their numbers are used. A period never
// imported has no lock to take and no book.
func lockPeriod(ctx context.Context, tx *sqlx.Tx, period string) ([]book, error) {
	// Two statements: under READ COMMITTED a statement reads the books as
	// they were when it began, before the lock it waited for was released.
	var found []string
	if err := tx.SelectContext(ctx, &found, `SELECT period FROM einvoice_periods WHERE period = $1 FOR UPDATE`, period); err != nil || len(found) == 0 {
		return nil, err
	}
	var bs []book
	err := tx.SelectContext(ctx, &bs, `SELECT id, track, next_no, last_no FROM einvoice_books
		WHERE period = $1 AND next_no <= last_no ORDER BY track, first_no`, period)
	return bs, err
}

// number gives inv the next number of books (consumed in order), with its
// random number. It reports false when none is left.
func number(books *[]book, inv *invoiceRow, now time.Time) (bool, error) {
	for len(*books) > 0 && (*books)[0].NextNo > (*books)[0].LastNo {
		*books = (*books)[1:]
	}
	if len(*books) == 0 {
		return false, nil
	}
	b := &(*books)[0]
	rnd, err := billing.NewRandomNumber()
	if err != nil {
		return false, err
	}
	inv.Number = sql.NullString{String: billing.FormatInvoiceNumber(b.Track, b.NextNo), Valid: true}
	inv.BookID = sql.NullInt64{Int64: b.ID, Valid: true}
	inv.RandomNumber = sql.NullString{String: rnd, Valid: true}
	inv.IssuedAt = sql.NullTime{Time: now, Valid: true}
	inv.Status = "issued"
	b.NextNo++
	return true, nil
}

// prepareInvoice is the invoice of ch, paid at now, with its number taken
// (under its period's lock, held to the end of tx) when one is left. Nil
// when the charge has nothing to pay.
func (s *Store) prepareInvoice(ctx context.Context, tx *sqlx.Tx, now time.Time, cat billing.Catalog, ch Charge) (*invoiceRow, error) {
	if ch.Total <= 0 {
		return nil, nil
	}
	inv, err := s.newInvoice(ctx, tx, now, cat, ch)
	if err != nil {
		return nil, err
	}
	books, err := lockPeriod(ctx, tx, inv.Period)
	if err != nil {
		return nil, err
	}
	if _, err := number(&books, &inv, now); err != nil {
		return nil, err
	}
	return &inv, nil
}

// saveInvoice stores a new invoice, moves its book past its number and,
// when it has one, keeps its F0401.
func (s *Store) saveInvoice(ctx context.Context, tx *sqlx.Tx, now time.Time, inv invoiceRow) error {
	// One statement: the book, the invoice and its F0401 (when numbered).
	var body sql.NullString
	if inv.Number.Valid {
		m, err := s.f0401(inv)
		if err != nil {
			return err
		}
		b, err := m.XML()
		if err != nil {
			return err
		}
		body = sql.NullString{String: string(b), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `WITH bk AS (UPDATE einvoice_books SET next_no = next_no + 1 WHERE id = $4),
		msg AS (INSERT INTO einvoice_messages (type, name, period, charge_id, event_at, deadline, body, created_at)
			SELECT 'F0401', $5, $3, $1, $21, $22, $23, $21 WHERE $23::text IS NOT NULL)
		INSERT INTO einvoices (`+invoiceCols+`, created_at)
		VALUES ($1, $2, $3, $5, $4, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		inv.ChargeID, inv.AccountID, inv.Period, inv.BookID, inv.Number, inv.Status, inv.InvoiceAt, inv.IssuedAt, inv.RandomNumber,
		inv.B2B, inv.BuyerBAN, inv.BuyerName, inv.CarrierType, inv.CarrierID, inv.NPOBAN, inv.PrintMark, inv.Description,
		inv.Net, inv.Tax, inv.Total, now, billing.UploadDeadline(now, inv.B2B), body)
	return err
}

// issueWaiting gives the invoices of period that wait for a number the
// next numbers, in the order they were paid, as far as the period's books
// go; the period's lock is held (books from lockPeriod). Returns how many
// were issued.
func (s *Store) issueWaiting(ctx context.Context, tx *sqlx.Tx, now time.Time, period string, books []book) (int, error) {
	var waiting []invoiceRow
	if err := tx.SelectContext(ctx, &waiting, `SELECT `+invoiceCols+` FROM einvoices
		WHERE period = $1 AND status = 'waiting' ORDER BY invoice_at, charge_id`, period); err != nil {
		return 0, err
	}
	var ids, bookIDs []int64
	var numbers, rnds []string
	for i := range waiting {
		ok, err := number(&books, &waiting[i], now)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		w := waiting[i]
		ids, bookIDs = append(ids, w.ChargeID), append(bookIDs, w.BookID.Int64)
		numbers, rnds = append(numbers, w.Number.String), append(rnds, w.RandomNumber.String)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS u(charge_id, book_id, number, rnd)),
		bk AS (UPDATE einvoice_books b SET next_no = b.next_no + n.used FROM (SELECT book_id, count(*) AS used FROM u GROUP BY book_id) n WHERE b.id = n.book_id),
		ch AS (UPDATE charges c SET invoice_number = u.number FROM u WHERE c.id = u.charge_id)
		UPDATE einvoices e SET number = u.number, book_id = u.book_id, random_number = u.rnd, issued_at = $5, status = 'issued'
		FROM u WHERE e.charge_id = u.charge_id`,
		pq.Int64Array(ids), pq.Int64Array(bookIDs), pq.StringArray(numbers), pq.StringArray(rnds), now); err != nil {
		return 0, err
	}
	for _, w := range waiting[:len(ids)] {
		if err := s.issued(ctx, tx, now, w); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// BookImport is what ImportBooks did.
type BookImport struct {
	Added   int `json:"added"`   // books (ranges) added
	Numbers int `json:"numbers"` // numbers they hold
	Already int `json:"already"` // ranges imported before, left as they were
	Issued  int `json:"issued"`  // waiting invoices issued
}

// ImportBooks adds the platform's number ranges (billing.ParseBooks) and
// issues the invoices that waited for numbers of their periods. A range
// imported before is left as it is; one overlapping another range of its
// period and track refuses the whole import (EInvalid, nothing changed).
func (s *Store) ImportBooks(ctx context.Context, actor Actor, ranges []billing.BookRange) (BookImport, error) {
	var res BookImport
	byPeriod := map[string][]billing.BookRange{}
	for _, r := range ranges {
		byPeriod[r.Period.String()] = append(byPeriod[r.Period.String()], r)
	}
	periods := make([]string, 0, len(byPeriod))
	for p := range byPeriod {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		res = BookImport{}
		for _, p := range periods {
			// The lock order of a payment: the account, then the period.
			// Issuing the waiting invoices writes their accounts' charges
			// (and bumps their overview versions), so their accounts are
			// locked first.
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id IN
				(SELECT account_id FROM einvoices WHERE period = $1 AND status = 'waiting') ORDER BY id FOR UPDATE`, p); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_periods (period) VALUES ($1) ON CONFLICT DO NOTHING`, p); err != nil {
				return err
			}
			if _, err := lockPeriod(ctx, tx, p); err != nil {
				return err
			}
			var reported bool
			if err := tx.GetContext(ctx, &reported, `SELECT blanks_reported_at IS NOT NULL FROM einvoice_periods WHERE period = $1`, p); err != nil {
				return err
			}
			if reported {
				return billing.Errorf(billing.EInvalid, "%s 期已結束並已申報空白字軌,不能再匯入號碼,未匯入任何號碼", p)
			}
			for _, r := range byPeriod[p] {
				var same, overlap bool
				if err := tx.QueryRowxContext(ctx, `SELECT
					coalesce(bool_or(first_no = $3 AND last_no = $4), false), coalesce(bool_or(NOT (first_no = $3 AND last_no = $4)), false)
					FROM einvoice_books WHERE period = $1 AND track = $2 AND first_no <= $4 AND last_no >= $3`,
					p, r.Track, r.Begin, r.End).Scan(&same, &overlap); err != nil {
					return err
				}
				if overlap {
					return billing.Errorf(billing.EInvalid, "%s 期 %s%08d–%s%08d 與已匯入的號碼重疊,未匯入任何號碼", p, r.Track, r.Begin, r.Track, r.End)
				}
				if same {
					res.Already++
					continue
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO einvoice_books (period, track, first_no, last_no, next_no, imported_at, imported_by)
					VALUES ($1, $2, $3, $4, $3, $5, $6)`, p, r.Track, r.Begin, r.End, now, string(actor)); err != nil {
					return err
				}
				res.Added++
				res.Numbers += r.End - r.Begin + 1
			}
			books, err := lockPeriod(ctx, tx, p)
			if err != nil {
				return err
			}
			n, err := s.issueWaiting(ctx, tx, now, p, books)
			if err != nil {
				return err
			}
			res.Issued += n
		}
		return audit(ctx, tx, now, actor, "", "einvoice.books_imported", nil, res)
	})
	return res, err
}
