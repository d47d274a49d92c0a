package db

import "context"

// PendingCharges counts the charges waiting for a payment's outcome, by
// kind (upgrade, renewal, usage), for the operator's metrics. A pending
// upgrade older than a few minutes means a provider gave no clear answer
// and the sweep has not settled it yet.
func (s *Store) PendingCharges(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Kind  string `db:"kind"`
		Count int64  `db:"n"`
	}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT kind, count(*) AS n FROM charges WHERE status = 'pending' GROUP BY kind`); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Kind] = r.Count
	}
	return out, nil
}
