package db

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Mail kinds: what a message in the outbox is about.
const (
	MailReceipt         = "receipt"
	MailPaymentFailed   = "payment_failed"
	MailRenewalReminder = "renewal_reminder"
	MailCodeExpiry      = "code_expiry"
	MailInvitation      = "invitation"
	MailRefund          = "refund"            // a refund succeeded
	MailAllowanceAsk    = "allowance_consent" // a person's allowance waits for the admin's agreement
)

// Reminders go out this long before what they announce.
const (
	RenewalReminderLead = 3 * 24 * time.Hour // before the month ends
	CodeExpiryLead      = 7 * 24 * time.Hour // before a code's window closes
)

// Mail is a message waiting in the outbox. Params carry the event's facts
// as they were when it happened; the worker renders the message from them
// and the store's records.
type Mail struct {
	ID        int64           `db:"id"`
	Kind      string          `db:"kind"`
	AccountID string          `db:"account_id"`
	Recipient string          `db:"recipient"`
	Lang      string          `db:"lang"`
	Params    json.RawMessage `db:"params"`
	Attempts  int             `db:"attempts"`
	CreatedAt time.Time       `db:"created_at"`
}

// MailParams are the facts a message is rendered from.
type MailParams struct {
	ChargeID  int64     `json:"charge_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`     // payment_failed: why, in the admin's words (zh-TW)
	Failure   string    `json:"failure,omitempty"`    // payment_failed: why, as a code, and the provider's words,
	Detail    string    `json:"detail,omitempty"`     // so the message gives the reason in its reader's language
	NextRetry time.Time `json:"next_retry,omitempty"` // payment_failed: the next automatic retry, if any
	GiveUp    bool      `json:"give_up,omitempty"`    // payment_failed: the renewal was given up
	Month     string    `json:"month,omitempty"`      // renewal_reminder: the month to be renewed
	Plan      string    `json:"plan,omitempty"`
	Total     int64     `json:"total,omitempty"`
	Code      string    `json:"code,omitempty"`  // code_expiry: the code as issued
	Until     time.Time `json:"until,omitempty"` // code_expiry, invitation: when it stops working
	Link      string    `json:"link,omitempty"`  // invitation: the one-time link (scrubbed once sent)
	Role      string    `json:"role,omitempty"`  // invitation
	RefundID  int64     `json:"refund_id,omitempty"`
}

// queueMail writes one message per account in accounts to the outbox, to
// the account's e-invoice e-mail address (accounts without one get none)
// and read by the user who gave it (in their language, see ClaimMail),
// in the caller's transaction: it is sent only if the event commits, and
// the dedupe key (keys[i] for accounts[i]) keeps it to one per event.
func queueMail(ctx context.Context, tx *sqlx.Tx, now time.Time, kind string, accounts, keys []string, params []MailParams) error {
	if len(accounts) == 0 {
		return nil
	}
	ps := make([]string, len(params))
	for i, p := range params {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		ps[i] = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (kind, account_id, recipient, recipient_user_id, params, dedupe_key, created_at, send_after)
		SELECT $1, u.acct, e.email, e.email_user_id, u.params::jsonb, u.key, $2, $2
		FROM unnest($3::text[], $4::text[], $5::text[]) AS u(acct, key, params)
		JOIN einvoice_details e ON e.account_id = u.acct AND e.email <> ''
		ON CONFLICT (dedupe_key) DO NOTHING`, kind, now, pq.StringArray(accounts), pq.StringArray(keys), pq.StringArray(ps))
	return err
}

// queueMailTo writes one message to recipient (not the e-invoice address:
// an invitation goes to the person invited, who is no user yet), in the
// language of the user who sends it (byUserID), as they last chose it.
func queueMailTo(ctx context.Context, tx *sqlx.Tx, now time.Time, kind, accountID, recipient, key string, byUserID int64, params MailParams) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (kind, account_id, recipient, lang, params, dedupe_key, created_at, send_after)
		VALUES ($1, $2, $3, coalesce((SELECT lang FROM users WHERE id = $7), 'zh-TW'), $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING`,
		kind, accountID, recipient, string(b), key, now, byUserID)
	return err
}

// queueReceipts queues a receipt for each paid charge.
func queueReceipts(ctx context.Context, tx *sqlx.Tx, now time.Time, paid []Charge) error {
	accts, keys, ps := make([]string, len(paid)), make([]string, len(paid)), make([]MailParams, len(paid))
	for i, c := range paid {
		accts[i], keys[i], ps[i] = c.AccountID, "receipt:"+itoa(c.ID), MailParams{ChargeID: c.ID}
	}
	return queueMail(ctx, tx, now, MailReceipt, accts, keys, ps)
}

// queueFailure queues the failed-payment message of a charge's refusal.
//
// A failed upgrade is a purchase that did not happen (billing.Owed), and
// the admin who tried it saw the refusal on the page; trying again is a
// new charge. So one message goes out per purchase, not per try: one per
// account, plan change and billing month. A charge the account owes (a
// renewal, additional messages) gets one per refused attempt, each saying
// what happens next (the next automatic retry, or the plan given up).
func queueFailure(ctx context.Context, tx *sqlx.Tx, now time.Time, ch Charge, gaveUp bool) error {
	p := MailParams{ChargeID: ch.ID, Reason: ch.Reason(), Failure: ch.Failure, Detail: ch.FailureDetail, GiveUp: gaveUp}
	if ch.NextRetryAt.Valid && !gaveUp {
		p.NextRetry = ch.NextRetryAt.Time
	}
	key := "payment_failed:" + itoa(ch.ID) + ":" + itoa(int64(ch.Attempts))
	if ch.Kind == billing.KindUpgrade {
		key = "payment_failed:upgrade:" + ch.AccountID + ":" + string(ch.FromPlan) + ":" + string(ch.Plan) + ":" + ch.Month().String()
	}
	return queueMail(ctx, tx, now, MailPaymentFailed, []string{ch.AccountID}, []string{key}, []MailParams{p})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// QueueReminders queues, as of now, the renewal reminder of every account
// whose next renewal charges something, once the month has at most
// RenewalReminderLead left (plan, amount as quoted for the next month
// start, 下個月1日), and the expiry reminder of every registered, unused
// code whose window closes within CodeExpiryLead. Each is queued once (per
// account and month, per code), so the daily job may run it any number of
// times. It returns how many messages were queued.
func (s *Store) QueueReminders(ctx context.Context) (int64, error) {
	now := s.Clock.Now()
	m := billing.MonthOf(now)
	var queued int64
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var before int64
		if err := tx.GetContext(ctx, &before, `SELECT count(*) FROM outbox`); err != nil {
			return err
		}
		if m.End().Sub(now) <= RenewalReminderLead {
			var ids []string
			if err := tx.SelectContext(ctx, &ids, `SELECT a.id FROM accounts a JOIN einvoice_details e ON e.account_id = a.id AND e.email <> ''
				WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = 'renewal_reminder:' || a.id || ':' || $1)
				ORDER BY a.id`, m.Next().String()); err != nil {
				return err
			}
			var accts, keys []string
			var ps []MailParams
			for _, id := range ids {
				cat, in, _, err := quoteIn(ctx, tx, m.Next().Start(), id, billing.KindRenewal, "", false)
				if err != nil {
					return err
				}
				q, err := cat.Quote(in)
				if err != nil || !q.Chargeable() {
					continue
				}
				accts, keys = append(accts, id), append(keys, "renewal_reminder:"+id+":"+m.Next().String())
				ps = append(ps, MailParams{Month: m.Next().String(), Plan: string(q.Plan), Total: int64(q.Total)})
			}
			if err := queueMail(ctx, tx, now, MailRenewalReminder, accts, keys, ps); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (kind, account_id, recipient, recipient_user_id, params, dedupe_key, created_at, send_after)
			SELECT 'code_expiry', p.account_id, e.email, e.email_user_id, jsonb_build_object('code', p.display, 'until', c.valid_until), 'code_expiry:' || p.code, $1, $1
			FROM promo_codes p JOIN campaigns c ON c.id = p.campaign_id
			JOIN einvoice_details e ON e.account_id = p.account_id AND e.email <> ''
			WHERE p.status = 'registered' AND c.valid_until > $1 AND c.valid_until <= $2
			ON CONFLICT (dedupe_key) DO NOTHING`, now, now.Add(CodeExpiryLead)); err != nil {
			return err
		}
		return tx.GetContext(ctx, &queued, `SELECT count(*) - $1 FROM outbox`, before)
	})
	return queued, err
}

// ClaimMail takes up to n messages due at now for sending, holding them
// for lease: a second worker skips them, and if this one dies they are
// due again once the lease ends. Each comes in its reader's language as
// of now (the user's last choice), else the one it was queued in.
func (s *Store) ClaimMail(ctx context.Context, n int, lease time.Duration) ([]Mail, error) {
	now := s.Clock.Now()
	var ms []Mail
	err := s.DB.SelectContext(ctx, &ms, `UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND send_after <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, account_id, recipient, coalesce((SELECT u.lang FROM users u WHERE u.id = outbox.recipient_user_id), lang) AS lang,
			params, attempts, created_at`, now.Add(lease), now, n)
	return ms, err
}

// MarkMailSent records a message as sent; it is never sent again. An
// invitation's one-time link is scrubbed from the outbox once sent (the
// invitations table keeps only its hash).
func (s *Store) MarkMailSent(ctx context.Context, id int64) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE outbox SET sent_at = $2, claimed_until = NULL, last_error = '',
		params = CASE WHEN kind IN ('invitation', 'allowance_consent') THEN params - 'link' ELSE params END WHERE id = $1`, id, s.Clock.Now())
	return err
}

// MarkMailFailed records a failed attempt; the message is tried again at
// retryAt.
func (s *Store) MarkMailFailed(ctx context.Context, id int64, why string, retryAt time.Time) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE outbox SET claimed_until = NULL, send_after = $2, last_error = $3 WHERE id = $1 AND sent_at IS NULL`,
		id, retryAt, why)
	return err
}

// AccountName is an account's display name.
func (s *Store) AccountName(ctx context.Context, id string) (string, error) {
	var name string
	err := s.DB.GetContext(ctx, &name, `SELECT name FROM accounts WHERE id=$1`, id)
	if isNoRows(err) {
		return "", billing.Errorf(billing.EUnknownAccount, "%s", id)
	}
	return name, err
}
