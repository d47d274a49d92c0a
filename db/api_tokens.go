package db

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// apiTokenPrefix marks the webstore's usage API tokens, so a leaked one is
// recognisable (and scannable) as such.
const apiTokenPrefix = "wsu_"

// CreateAPIToken issues an API token for an account (for POST /api/usage)
// and returns it; only its SHA-256 is stored, so it is shown once. Returns
// EUnknownAccount. Audited (without the token).
func (s *Store) CreateAPIToken(ctx context.Context, actor Actor, accountID, label string) (string, error) {
	label, err := cleanLabel(label)
	if err != nil {
		return "", err
	}
	tok := apiTokenPrefix + NewToken()
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, account_id, label, created_at) VALUES ($1,$2,$3,$4)`,
			hashToken(tok), accountID, label, now)
		if pgCode(err) == pgForeignKeyViolation {
			return billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", accountID)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "api_token.created", nil,
			map[string]any{"label": label, "token_id": tokenID(tok)})
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// FindAPIToken returns the account a live token belongs to; EForbidden for
// an unknown or revoked token.
func (s *Store) FindAPIToken(ctx context.Context, token string) (string, error) {
	var accountID string
	err := s.DB.GetContext(ctx, &accountID, `SELECT account_id FROM api_tokens WHERE token_hash=$1 AND revoked_at IS NULL`, hashToken(token))
	if isNoRows(err) {
		return "", billing.Errorf(billing.EForbidden, "API 權杖無效或已撤銷")
	}
	return accountID, err
}

// RevokeAPIToken revokes a token; revoking it again is a no-op. EForbidden
// for an unknown token. Audited.
func (s *Store) RevokeAPIToken(ctx context.Context, actor Actor, token string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var row struct {
			AccountID string       `db:"account_id"`
			Label     string       `db:"label"`
			RevokedAt sql.NullTime `db:"revoked_at"`
		}
		err := tx.GetContext(ctx, &row, `SELECT account_id, label, revoked_at FROM api_tokens WHERE token_hash=$1 FOR UPDATE`, hashToken(token))
		if isNoRows(err) {
			return billing.Errorf(billing.EForbidden, "API 權杖無效")
		} else if err != nil || row.RevokedAt.Valid {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at=$1 WHERE token_hash=$2`, now, hashToken(token)); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, row.AccountID, "api_token.revoked", nil, map[string]any{"label": row.Label, "token_id": tokenID(token)})
	})
}

// tokenID names a token in the audit trail without revealing it: the first
// 8 bytes of its hash, in hex.
func tokenID(tok string) string { return hex.EncodeToString(hashToken(tok)[:8]) }

// cleanLabel is a token's label as stored: optional, else a clean name
// (billing.CleanText) of at most billing.MaxLabel characters.
func cleanLabel(label string) (string, error) {
	if billing.TrimText(label) == "" {
		return "", nil
	}
	return billing.CleanText("權杖用途", label, billing.MaxLabel)
}
