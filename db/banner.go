package db

import "context"

// FindOwedCharges lists an account's failed charges that are still owed,
// newest first: failed renewals (retried on schedule, then given up) and
// failed additional-message charges. A failed upgrade is not owed — the
// admin saw the refusal at checkout and nothing changed — so it is not
// listed. The menu, plan and checkout pages show these to the admin with
// 立即付款 (RetryCharge).
func (s *Store) FindOwedCharges(ctx context.Context, accountID string) ([]Charge, error) {
	var cs []Charge
	err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges
		WHERE account_id=$1 AND status='failed' AND kind IN ('renewal', 'usage') ORDER BY id DESC`, accountID)
	return cs, err
}
