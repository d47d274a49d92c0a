package db

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// Reference is the rarely changing data every page reads: the plan
// catalog, the additional-message tiers and the campaigns. Each process
// keeps one copy, tagged with the reference_version it was read at
// (migration 012: any change to those tables bumps it in the same
// transaction). Pages learn the current version in the statement that
// finds their session (WithReferenceVersion), so a change made through any
// process is seen at the next request, at the cost of one column.
//
// The money paths do not use it: a purchase or a renewal reads the catalog
// inside its own transaction.
type Reference struct {
	Version   int64
	Catalog   billing.Catalog
	Tiers     []billing.UsageTier
	Campaigns map[string]billing.Campaign
}

type referenceCache struct {
	mu  sync.Mutex
	ref *Reference
}

type versionKey struct{}

// WithReferenceVersion records in ctx the reference version a request's
// first statement read.
func WithReferenceVersion(ctx context.Context, v int64) context.Context {
	return context.WithValue(ctx, versionKey{}, v)
}

// reference returns the reference data at the version ctx carries, or at
// the current version (one round trip to read it) when it carries none.
// It reads the tables again only when the version moved.
func (s *Store) reference(ctx context.Context) (*Reference, error) {
	v, ok := ctx.Value(versionKey{}).(int64)
	if !ok {
		if err := s.DB.GetContext(ctx, &v, `SELECT version FROM reference_version`); err != nil {
			return nil, err
		}
	}
	return s.referenceAt(ctx, v)
}

func (s *Store) referenceAt(ctx context.Context, v int64) (*Reference, error) {
	s.refs.mu.Lock()
	defer s.refs.mu.Unlock()
	if r := s.refs.ref; r != nil && r.Version >= v {
		return r, nil
	}
	r, err := loadReference(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	s.refs.ref = r
	return r, nil
}

// loadReference reads the reference data and its version in one snapshot.
func loadReference(ctx context.Context, d *sqlx.DB) (*Reference, error) {
	tx, err := d.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r := &Reference{Campaigns: map[string]billing.Campaign{}}
	if err := tx.GetContext(ctx, &r.Version, `SELECT version FROM reference_version`); err != nil {
		return nil, err
	}
	if r.Catalog, err = LoadCatalog(ctx, tx); err != nil {
		return nil, err
	}
	if r.Tiers, err = loadUsageTiers(ctx, tx); err != nil {
		return nil, err
	}
	var rows []campaignRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+campaignCols+` FROM campaigns`); err != nil {
		return nil, err
	}
	for _, c := range rows {
		r.Campaigns[c.ID] = c.billing()
	}
	return r, tx.Commit()
}

// campaign returns a cached campaign; one created after the version ctx
// carries is read again at the current version.
func (s *Store) campaign(ctx context.Context, id string) (billing.Campaign, error) {
	r, err := s.reference(ctx)
	if err != nil {
		return billing.Campaign{}, err
	}
	if c, ok := r.Campaigns[id]; ok {
		return c, nil
	}
	if r, err = s.reference(withoutVersion{ctx}); err != nil {
		return billing.Campaign{}, err
	}
	if c, ok := r.Campaigns[id]; ok {
		return c, nil
	}
	return billing.Campaign{}, billing.Errorf(billing.EInvalid, "找不到活動 %s", id)
}

// withoutVersion hides the version a context carries.
type withoutVersion struct{ context.Context }

func (w withoutVersion) Value(k any) any {
	if _, ok := k.(versionKey); ok {
		return nil
	}
	return w.Context.Value(k)
}

// getPrepared runs a hot read (a page's statement). By default it is one
// unnamed statement like any other: with binary parameters (Open) that is
// one round trip, and safe behind PgBouncer in transaction pooling. With
// prepared_statements=per_connection it is prepared once per pool
// connection and PostgreSQL plans it once instead of at every request;
// only a direct connection or session pooling keeps such a statement.
func (s *Store) getPrepared(ctx context.Context, dest any, query string, args ...any) error {
	if !s.prepared {
		return s.DB.GetContext(ctx, dest, query, args...)
	}
	st, err := s.prepare(ctx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

func (s *Store) prepare(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := s.DB.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}
