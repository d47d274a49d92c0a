package db

import (
	"context"

	"github.com/lib/pq"
)

// What an operation wrote among the charges: a mark taken before it, and
// the charges that differ from the mark after it. The simulator reports an
// event's charges this way; a console action or a rehearsal can do the same.

// LatestChargeID is the id of the newest charge, 0 if there is none: the
// mark after which FindChargesAfter lists the charges an operation wrote.
func (s *Store) LatestChargeID(ctx context.Context) (int64, error) {
	var id int64
	err := s.DB.GetContext(ctx, &id, `SELECT coalesce(max(id), 0) FROM charges`)
	return id, err
}

// FindChargesAfter lists the charges written after the one with id afterID
// (LatestChargeID), oldest first.
func (s *Store) FindChargesAfter(ctx context.Context, afterID int64) ([]Charge, error) {
	var cs []Charge
	err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges WHERE id > $1 ORDER BY id`, afterID)
	return cs, err
}

// ChargeStatuses is every charge's status at one moment (TakeChargeStatuses).
type ChargeStatuses struct {
	ids      []int64
	statuses []string
}

// TakeChargeStatuses reads every charge's status, to ask later which
// charges an operation wrote or moved (FindChargesChangedSince). It reads
// the whole table: for stores of a scenario's or a rehearsal's size.
func (s *Store) TakeChargeStatuses(ctx context.Context) (ChargeStatuses, error) {
	var rows []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
	}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT id, status FROM charges`); err != nil {
		return ChargeStatuses{}, err
	}
	cs := ChargeStatuses{ids: make([]int64, len(rows)), statuses: make([]string, len(rows))}
	for i, r := range rows {
		cs.ids[i], cs.statuses[i] = r.ID, r.Status
	}
	return cs, nil
}

// FindChargesChangedSince lists the charges that are new since before was
// taken or whose status has changed since, oldest first.
func (s *Store) FindChargesChangedSince(ctx context.Context, before ChargeStatuses) ([]Charge, error) {
	var cs []Charge
	err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges
		WHERE NOT EXISTS (SELECT 1 FROM unnest($1::bigint[], $2::text[]) AS b(id, status) WHERE b.id = charges.id AND b.status = charges.status)
		ORDER BY id`, pq.Int64Array(before.ids), pq.StringArray(before.statuses))
	return cs, err
}
