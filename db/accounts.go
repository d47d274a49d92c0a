package db

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// LoadCatalog reads the plan catalog.
func LoadCatalog(ctx context.Context, q sqlx.QueryerContext) (billing.Catalog, error) {
	var rows []struct {
		ID         string `db:"id"`
		NameZH     string `db:"name_zh"`
		NameEN     string `db:"name_en"`
		Fee        int64  `db:"fee"`
		Free       int    `db:"free_messages"`
		Additional bool   `db:"additional_messages"`
		Rank       int    `db:"rank"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, name_zh, name_en, fee, free_messages, additional_messages, rank FROM plans`); err != nil {
		return billing.Catalog{}, err
	}
	plans := make([]billing.Plan, len(rows))
	for i, r := range rows {
		plans[i] = billing.Plan{ID: billing.PlanID(r.ID), NameZH: r.NameZH, NameEN: r.NameEN, Fee: billing.Money(r.Fee),
			FreeMessages: r.Free, Additional: r.Additional, Rank: r.Rank}
	}
	return billing.NewCatalog(plans)
}

// Catalog returns the plan catalog (cached; see Reference).
func (s *Store) Catalog(ctx context.Context) (billing.Catalog, error) {
	r, err := s.reference(ctx)
	if err != nil {
		return billing.Catalog{}, err
	}
	return r.Catalog, nil
}

// NewAccount describes an account to create.
type NewAccount struct {
	ID     string
	Name   string
	Region string
	Plan   billing.PlanID
	// PaidMonth, when set, records that month's plan fee as already paid.
	PaidMonth billing.Month
}

// CreateAccount creates an official account. Returns EInvalid for a bad
// region or id, EUnknownPlan for a plan not in the catalog and EConflict if
// the id is taken.
func (s *Store) CreateAccount(ctx context.Context, actor Actor, n NewAccount) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		return createAccount(ctx, tx, now, actor, n)
	})
}

func createAccount(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, n NewAccount) error {
	if strings.TrimSpace(n.ID) == "" {
		return billing.Errorf(billing.EInvalid, "帳號代號不可空白")
	}
	if len(n.Region) != 2 || strings.ToUpper(n.Region) != n.Region {
		return billing.Errorf(billing.EInvalid, "地區必須是兩個大寫英文字母(例如 TW)")
	}
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return err
	}
	plan, err := cat.Plan(n.Plan)
	if err != nil {
		return err
	}
	if n.Name == "" {
		n.Name = n.ID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, region, plan, created_at) VALUES ($1,$2,$3,$4,$5)`,
		n.ID, n.Name, n.Region, string(n.Plan), now); err != nil {
		if pgCode(err) == pgUniqueViolation {
			return billing.Errorf(billing.EConflict, "帳號 %s 已存在", n.ID)
		}
		return err
	}
	if !n.PaidMonth.IsZero() && plan.Fee > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_months (account_id, month, plan, fee_paid) VALUES ($1,$2,$3,$4)`,
			n.ID, n.PaidMonth.Date(), string(n.Plan), int64(plan.Fee)); err != nil {
			return err
		}
	}
	return audit(ctx, tx, now, actor, n.ID, "account.created", nil, map[string]any{"name": n.Name, "region": n.Region, "plan": n.Plan})
}

// accountRow is an account with its main payment method and what was paid
// for the month in question.
type accountRow struct {
	ID            string         `db:"id"`
	Name          string         `db:"name"`
	Region        string         `db:"region"`
	Plan          string         `db:"plan"`
	ScheduledPlan sql.NullString `db:"scheduled_plan"`
	ScheduledFor  sql.NullTime   `db:"scheduled_for"`
	PaymentID     sql.NullInt64  `db:"payment_id"`
	PaymentKind   sql.NullString `db:"payment_kind"`
	PaymentToken  sql.NullString `db:"payment_token"`
	PaidFee       int64          `db:"paid_fee"`
}

func (r accountRow) billing(m billing.Month) billing.Account {
	a := billing.Account{ID: r.ID, Region: r.Region, Plan: billing.PlanID(r.Plan),
		Payment: billing.PaymentKind(r.PaymentKind.String), PaidMonth: m, PaidFee: billing.Money(r.PaidFee)}
	if r.ScheduledPlan.Valid {
		a.ScheduledPlan = billing.PlanID(r.ScheduledPlan.String)
		a.ScheduledFor = billing.MonthFromDate(r.ScheduledFor.Time)
	}
	return a
}

const accountSelect = `
SELECT a.id, a.name, a.region, a.plan, a.scheduled_plan, a.scheduled_for,
       pm.id AS payment_id, pm.kind AS payment_kind, pm.token AS payment_token,
       coalesce(m.fee_paid, 0) AS paid_fee
FROM accounts a
LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL
LEFT JOIN account_months m ON m.account_id = a.id AND m.month = $2
WHERE a.id = $1`

// loadAccount reads an account as the rules see it in month m; with lock it
// takes the account's row lock, which serialises every money change of one
// account.
func loadAccount(ctx context.Context, tx *sqlx.Tx, id string, m billing.Month, lock bool) (accountRow, error) {
	var r accountRow
	q := accountSelect
	if lock {
		q += ` FOR UPDATE OF a`
	}
	err := tx.GetContext(ctx, &r, q, id, m.Date())
	if isNoRows(err) {
		return r, billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", id)
	}
	return r, err
}

// PaymentMethod is a stored way to pay.
type PaymentMethod struct {
	ID        int64               `db:"id" json:"id"`
	AccountID string              `db:"account_id" json:"account_id"`
	Kind      billing.PaymentKind `db:"kind" json:"kind"`
	IsMain    bool                `db:"is_main" json:"is_main"`
	Token     string              `db:"token" json:"token"`
	Label     string              `db:"label" json:"label"`
	Brand     string              `db:"brand" json:"brand"`
	Last4     string              `db:"last4" json:"last4"`
	Expiry    string              `db:"expiry" json:"expiry"`
	CreatedAt time.Time           `db:"created_at" json:"created_at"`
}

// AddPaymentMethod stores a payment method for an account; the first one, or
// one added with main set, becomes the main method.
func (s *Store) AddPaymentMethod(ctx context.Context, actor Actor, pm PaymentMethod, main bool) (PaymentMethod, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if !pm.Kind.Valid() {
			return billing.Errorf(billing.EInvalid, "未知的付款方式 %q", pm.Kind)
		}
		if _, err := loadAccount(ctx, tx, pm.AccountID, billing.MonthOf(now), true); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM payment_methods WHERE account_id=$1 AND removed_at IS NULL`, pm.AccountID); err != nil {
			return err
		}
		if n == 0 {
			main = true
		}
		if main {
			if _, err := tx.ExecContext(ctx, `UPDATE payment_methods SET is_main=false WHERE account_id=$1 AND is_main`, pm.AccountID); err != nil {
				return err
			}
		}
		pm.IsMain = main
		pm.CreatedAt = now
		err := tx.GetContext(ctx, &pm.ID, `INSERT INTO payment_methods (account_id, kind, is_main, token, label, brand, last4, expiry, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
			pm.AccountID, string(pm.Kind), pm.IsMain, pm.Token, pm.Label, pm.Brand, pm.Last4, pm.Expiry, now)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, pm.AccountID, "payment_method.added", nil,
			map[string]any{"id": pm.ID, "kind": pm.Kind, "main": pm.IsMain, "brand": pm.Brand, "last4": pm.Last4})
	})
	return pm, err
}

// SetMainPaymentMethod makes one of the account's methods its main one.
func (s *Store) SetMainPaymentMethod(ctx context.Context, actor Actor, accountID string, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if _, err := loadAccount(ctx, tx, accountID, billing.MonthOf(now), true); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM payment_methods WHERE id=$1 AND account_id=$2 AND removed_at IS NULL)`, id, accountID); err != nil {
			return err
		}
		if !exists {
			return billing.Errorf(billing.EInvalid, "找不到這個付款方式")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payment_methods SET is_main = (id = $1) WHERE account_id=$2 AND removed_at IS NULL AND (is_main OR id = $1)`, id, accountID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "payment_method.main", nil, map[string]any{"id": id})
	})
}

// RemovePaymentMethod removes a method. If it was the main one, the newest
// remaining method becomes main; an account on a paid plan left with none
// has its renewal recorded as a failed charge (no_payment_method). Returns
// EPaymentPending while the account has a payment in flight: the provider
// must be asked about that payment with the method it was made with.
func (s *Store) RemovePaymentMethod(ctx context.Context, actor Actor, accountID string, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if _, err := loadAccount(ctx, tx, accountID, billing.MonthOf(now), true); err != nil {
			return err
		}
		if err := refuseIfPending(ctx, tx, accountID); err != nil {
			return err
		}
		var pm PaymentMethod
		err := tx.GetContext(ctx, &pm, `SELECT id, account_id, kind, is_main, token, label, brand, last4, expiry, created_at
			FROM payment_methods WHERE id=$1 AND account_id=$2 AND removed_at IS NULL`, id, accountID)
		if isNoRows(err) {
			return billing.Errorf(billing.EInvalid, "找不到這個付款方式")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payment_methods SET removed_at=$1, is_main=false WHERE id=$2`, now, id); err != nil {
			return err
		}
		if pm.IsMain {
			if _, err := tx.ExecContext(ctx, `UPDATE payment_methods SET is_main=true WHERE id = (
				SELECT id FROM payment_methods WHERE account_id=$1 AND removed_at IS NULL ORDER BY id DESC LIMIT 1)`, accountID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, actor, accountID, "payment_method.removed", map[string]any{"id": id, "kind": pm.Kind, "last4": pm.Last4}, nil)
	})
}

// PaymentMethods lists an account's methods, main first.
func (s *Store) PaymentMethods(ctx context.Context, accountID string) ([]PaymentMethod, error) {
	var pms []PaymentMethod
	err := s.DB.SelectContext(ctx, &pms, `SELECT id, account_id, kind, is_main, token, label, brand, last4, expiry, created_at
		FROM payment_methods WHERE account_id=$1 AND removed_at IS NULL ORDER BY is_main DESC, id`, accountID)
	return pms, err
}
