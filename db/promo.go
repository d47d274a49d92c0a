package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

type campaignRow struct {
	ID           string         `db:"id"`
	Name         string         `db:"name"`
	FaceValue    int64          `db:"face_value"`
	ValidFrom    time.Time      `db:"valid_from"`
	ValidUntil   time.Time      `db:"valid_until"`
	Regions      pq.StringArray `db:"regions"`
	PaymentKinds pq.StringArray `db:"payment_kinds"`
	Upgrades     pq.StringArray `db:"upgrades"`
	RenewalPlans pq.StringArray `db:"renewal_plans"`
}

func (r campaignRow) billing() billing.Campaign {
	c := billing.Campaign{ID: r.ID, Name: r.Name, FaceValue: billing.Money(r.FaceValue),
		ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil, Regions: r.Regions}
	for _, k := range r.PaymentKinds {
		c.PaymentKinds = append(c.PaymentKinds, billing.PaymentKind(k))
	}
	for _, t := range r.Upgrades {
		if tr, ok := billing.ParseTransition(t); ok {
			c.Upgrades = append(c.Upgrades, tr)
		}
	}
	for _, p := range r.RenewalPlans {
		c.RenewalPlans = append(c.RenewalPlans, billing.PlanID(p))
	}
	return c
}

const campaignCols = `id, name, face_value, valid_from, valid_until, regions, payment_kinds, upgrades, renewal_plans`

func findCampaign(ctx context.Context, q sqlx.QueryerContext, id string) (billing.Campaign, error) {
	var r campaignRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+campaignCols+` FROM campaigns WHERE id=$1`, id)
	if isNoRows(err) {
		return billing.Campaign{}, billing.Errorf(billing.EInvalid, "找不到活動 %s", id)
	}
	return r.billing(), err
}

// FindCampaignByID returns a campaign (cached; see Reference).
func (s *Store) FindCampaignByID(ctx context.Context, id string) (billing.Campaign, error) {
	return s.campaign(ctx, id)
}

// faceCap is the highest face value a campaign may have: MaxFaceValue, or
// the catalog's highest plan fee.
func (s *Store) faceCap(ctx context.Context) (billing.Money, error) {
	if s.MaxFaceValue > 0 {
		return s.MaxFaceValue, nil
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return 0, err
	}
	return cat.MaxFee(), nil
}

// CreateCampaign stores a campaign; empty eligibility lists take the
// document's terms. Returns EInvalid for bad data, EConflict for a taken id.
func (s *Store) CreateCampaign(ctx context.Context, actor Actor, c billing.Campaign) (billing.Campaign, error) {
	c = billing.DefaultCampaignTerms(c)
	c.Name = billing.TrimText(c.Name)
	maxFace, err := s.faceCap(ctx)
	if err != nil {
		return c, err
	}
	if err := c.ValidateNew(maxFace); err != nil {
		return c, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		kinds := make([]string, len(c.PaymentKinds))
		for i, k := range c.PaymentKinds {
			kinds[i] = string(k)
		}
		ups := make([]string, len(c.Upgrades))
		for i, t := range c.Upgrades {
			ups[i] = t.String()
		}
		plans := make([]string, len(c.RenewalPlans))
		for i, p := range c.RenewalPlans {
			plans[i] = string(p)
		}
		name := c.Name
		if name == "" {
			name = c.ID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (`+campaignCols+`, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			c.ID, name, int64(c.FaceValue), c.ValidFrom, c.ValidUntil, pq.StringArray(c.Regions), pq.StringArray(kinds),
			pq.StringArray(ups), pq.StringArray(plans), now)
		if pgCode(err) == pgUniqueViolation {
			return billing.Errorf(billing.EConflict, "活動代號 %s 已存在", c.ID)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "", "campaign.created", nil, c)
	})
	return c, err
}

// AddCodes issues codes for a campaign. Codes are stored normalized (the
// matching form) beside the form they were issued in. Returns EConflict if
// any code already exists in any campaign.
func (s *Store) AddCodes(ctx context.Context, actor Actor, campaignID string, codes []string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		norm := make([]string, len(codes))
		for i, c := range codes {
			norm[i] = billing.NormalizeCode(c)
			if norm[i] == "" {
				return billing.Errorf(billing.EInvalid, "代碼不可空白")
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO promo_codes (code, campaign_id, status, display)
			SELECT n, $1, 'issued', d FROM unnest($2::text[], $3::text[]) AS t(n, d)`, campaignID, pq.StringArray(norm), pq.StringArray(codes))
		switch pgCode(err) {
		case "":
		case pgUniqueViolation:
			return billing.Errorf(billing.EConflict, "代碼重複")
		case "23514":
			return billing.Errorf(billing.EInvalid, "代碼只能包含英文字母與數字")
		default:
			return err
		}
		return audit(ctx, tx, now, actor, "", "codes.issued", nil, map[string]any{"campaign": campaignID, "count": len(codes)})
	})
}

// codeRow is a promo_codes row (codeCols), scanned or decoded from the
// page statement's JSON.
type codeRow struct {
	Code         string     `db:"code" json:"code"`
	CampaignID   string     `db:"campaign_id" json:"campaign_id"`
	AccountID    NullString `db:"account_id" json:"account_id"`
	Status       string     `db:"status" json:"status"`
	Display      string     `db:"display" json:"display"`
	RegisteredAt NullTime   `db:"registered_at" json:"registered_at"`
	RedeemedAt   NullTime   `db:"redeemed_at" json:"redeemed_at"`
	ChargeID     NullInt64  `db:"charge_id" json:"charge_id"`
}

func (r codeRow) billing() *billing.PromoCode {
	return &billing.PromoCode{Code: r.Code, CampaignID: r.CampaignID, AccountID: r.AccountID.String,
		Status: billing.CodeStatus(r.Status), RegisteredAt: r.RegisteredAt.Time}
}

// codeCols: migration 015 (account_overview) spells these out too.
const codeCols = `code, campaign_id, account_id, status, display, registered_at, redeemed_at, charge_id`

// heldCode returns the account's registered or reserved code and its
// campaign, or nil.
func heldCode(ctx context.Context, q sqlx.QueryerContext, accountID string) (*billing.PromoCode, billing.Campaign, error) {
	var r codeRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+codeCols+` FROM promo_codes WHERE account_id=$1 AND status IN ('registered','reserved')`, accountID)
	if isNoRows(err) {
		return nil, billing.Campaign{}, nil
	} else if err != nil {
		return nil, billing.Campaign{}, err
	}
	c, err := findCampaign(ctx, q, r.CampaignID)
	return r.billing(), c, err
}

// expireHeld writes the expiry of the account's held code if its window has
// closed by now, so the one-held-code constraint frees the account.
func expireHeld(ctx context.Context, tx *sqlx.Tx, now time.Time, accountID string) error {
	_, err := tx.ExecContext(ctx, `
		WITH e AS (
			UPDATE promo_codes p SET status='expired'
			FROM campaigns c
			WHERE p.campaign_id = c.id AND p.account_id = $1 AND p.status = 'registered' AND c.valid_until < $2
			RETURNING p.code, p.account_id)
		INSERT INTO code_events (code, account_id, kind, at) SELECT code, account_id, 'expired', $2 FROM e`, accountID, now)
	return err
}

// ExpireCodes marks every registered code whose window closed before now as
// expired, recording each in the ledger. It returns how many expired.
func (s *Store) ExpireCodes(ctx context.Context) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		return tx.GetContext(ctx, &n, `
			WITH e AS (
				UPDATE promo_codes p SET status='expired'
				FROM campaigns c
				WHERE p.campaign_id = c.id AND p.status = 'registered' AND c.valid_until < $1
				RETURNING p.code, p.account_id),
			ins AS (INSERT INTO code_events (code, account_id, kind, at) SELECT code, account_id, 'expired', $1 FROM e)
			SELECT count(*) FROM e`, now)
	})
	return n, err
}

// RegisteredCode is a code as its account sees it.
type RegisteredCode struct {
	Code       string
	Display    string
	Campaign   billing.Campaign
	Status     billing.CodeStatus // as of now: a registered code past its window reads expired
	Registered time.Time
	Redeemed   time.Time
	ChargeID   int64
}

// RegisterCode registers a code to an account (登錄) through the one gate,
// billing.CheckRegistration. Registering the same code again is a no-op.
// Two accounts racing for one code serialise on the code's row: exactly one
// wins; the other gets ECodeTaken.
func (s *Store) RegisterCode(ctx context.Context, actor Actor, accountID, raw string) (RegisteredCode, error) {
	return s.RegisterCodeIf(ctx, actor, accountID, raw, nil)
}

// RegisterCodeIf is RegisterCode asking fits first, when not nil, about
// the code's campaign: an error from it leaves the code unregistered and
// is returned as is (a page asking "this code does not offset this
// purchase: register it anyway?").
func (s *Store) RegisterCodeIf(ctx context.Context, actor Actor, accountID, raw string, fits func(billing.Campaign) error) (RegisteredCode, error) {
	var out RegisteredCode
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		code := billing.NormalizeCode(raw)
		if err := billing.CheckCodeTypo(code); err != nil {
			return err // a typo, caught before any look-up
		}
		acct, err := loadAccount(ctx, tx, accountID, billing.MonthOf(now), true)
		if err != nil {
			return err
		}
		if err := expireHeld(ctx, tx, now, accountID); err != nil {
			return err
		}
		reg := billing.Registration{Account: acct.billing(billing.MonthOf(now)), At: now, Typed: code}
		var r codeRow
		err = tx.GetContext(ctx, &r, `SELECT `+codeCols+` FROM promo_codes WHERE code=$1 FOR UPDATE`, code)
		if err != nil && !isNoRows(err) {
			return err
		}
		if err == nil {
			reg.Code = r.billing()
			if reg.Campaign, err = findCampaign(ctx, tx, r.CampaignID); err != nil {
				return err
			}
			if reg.Held, reg.HeldCampaign, err = heldCode(ctx, tx, accountID); err != nil {
				return err
			}
			if err := tx.GetContext(ctx, &reg.UsedCampaign, `SELECT EXISTS (SELECT 1 FROM promo_codes WHERE account_id=$1 AND campaign_id=$2)`,
				accountID, r.CampaignID); err != nil {
				return err
			}
		}
		if err := billing.CheckRegistration(reg); err != nil {
			return err
		}
		if fits != nil && r.AccountID.String != accountID {
			if err := fits(reg.Campaign); err != nil {
				return err
			}
		}
		out = RegisteredCode{Code: r.Code, Display: r.Display, Campaign: reg.Campaign, Status: billing.CodeRegistered, Registered: now}
		if r.AccountID.String == accountID {
			out.Status, out.Registered = billing.CodeStatus(r.Status), r.RegisteredAt.Time
			return nil // already registered here
		}
		if _, err := tx.ExecContext(ctx, `UPDATE promo_codes SET account_id=$1, status='registered', registered_at=$2 WHERE code=$3`,
			accountID, now, code); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, at) VALUES ($1,$2,'registered',$3)`, code, accountID, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "code.registered", nil, map[string]any{"code": code, "campaign": r.CampaignID})
	})
	return out, err
}

// CodeDisplay is a code as it was issued (e.g. BEAR-0611-AAAA), given the
// normalised code a quote or a charge holds; "" for "".
func (s *Store) CodeDisplay(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	var d string
	err := s.DB.GetContext(ctx, &d, `SELECT display FROM promo_codes WHERE code=$1`, code)
	return d, err
}

// AccountCode returns the code the account most recently registered, with
// its status as of now; ok is false if it never registered one.
func (s *Store) AccountCode(ctx context.Context, accountID string) (RegisteredCode, bool, error) {
	var r codeRow
	err := s.DB.GetContext(ctx, &r, `SELECT `+codeCols+` FROM promo_codes WHERE account_id=$1 ORDER BY registered_at DESC LIMIT 1`, accountID)
	if isNoRows(err) {
		return RegisteredCode{}, false, nil
	} else if err != nil {
		return RegisteredCode{}, false, err
	}
	c, err := findCampaign(ctx, s.DB, r.CampaignID)
	if err != nil {
		return RegisteredCode{}, false, err
	}
	return RegisteredCode{Code: r.Code, Display: r.Display, Campaign: c, Status: r.billing().StatusAt(c, s.Clock.Now()),
		Registered: r.RegisteredAt.Time, Redeemed: r.RedeemedAt.Time, ChargeID: r.ChargeID.Int64}, true, nil
}
