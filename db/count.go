package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
)

// Round trips to PostgreSQL, counted per request.
//
// Every connection the store opens goes through countingConn, which adds
// one to the StatementCounter carried by the context of each statement,
// BEGIN, COMMIT or ROLLBACK it sends. The web layer attaches a counter to
// each request; the statement-count test holds every page to its budget
// with it, and the request log reports it. Statements run without a
// counter in their context cost nothing more than a context lookup.

// StatementCounter counts the round trips made under one context.
type StatementCounter struct {
	mu   sync.Mutex
	n    int
	sqls []string
}

// keep is how many statements a counter remembers, to name them when a
// budget is exceeded.
const keep = 32

func (c *StatementCounter) add(sql string) {
	c.mu.Lock()
	c.n++
	if len(c.sqls) < keep {
		c.sqls = append(c.sqls, sql)
	}
	c.mu.Unlock()
}

// N is the number of round trips counted so far.
func (c *StatementCounter) N() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Statements are the first statements counted, whitespace folded.
func (c *StatementCounter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.sqls))
	for i, q := range c.sqls {
		out[i] = strings.Join(strings.Fields(q), " ")
	}
	return out
}

type counterKey struct{}

// WithStatementCounter returns ctx carrying a new counter.
func WithStatementCounter(ctx context.Context) (context.Context, *StatementCounter) {
	c := &StatementCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// StatementsIn returns the counter ctx carries, or nil.
func StatementsIn(ctx context.Context) *StatementCounter {
	c, _ := ctx.Value(counterKey{}).(*StatementCounter)
	return c
}

func count(ctx context.Context, sql string) {
	if c := StatementsIn(ctx); c != nil {
		c.add(sql)
	}
}

// countingConnector opens connections that count their round trips. It
// also carries the pool's prepared_statements setting, which the Store
// reads back through Driver (PreparesStatements).
type countingConnector struct {
	driver.Connector
	prepare bool
}

// openedDriver is lib/pq's driver with the pool's setting beside it.
type openedDriver struct {
	driver.Driver
	prepare bool
}

func (c countingConnector) Driver() driver.Driver {
	return openedDriver{Driver: c.Connector.Driver(), prepare: c.prepare}
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn}, nil
}

// countingConn wraps lib/pq's connection, which implements every
// interface used here; each method passes the call on.
type countingConn struct{ driver.Conn }

var errNotSupported = errors.New("db: the driver's connection lacks a context method")

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	count(ctx, query)
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	count(ctx, query)
	return e.ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errNotSupported
	}
	count(ctx, "PREPARE "+query)
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: query}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNotSupported
	}
	count(ctx, "BEGIN")
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, ctx: ctx}, nil
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// countingTx counts COMMIT and ROLLBACK under the context that began it.
type countingTx struct {
	driver.Tx
	ctx context.Context
}

func (t *countingTx) Commit() error {
	count(t.ctx, "COMMIT")
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	count(t.ctx, "ROLLBACK")
	return t.Tx.Rollback()
}

// countingStmt counts each execution of a prepared statement (COPY too).
type countingStmt struct {
	driver.Stmt
	query string
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	count(ctx, s.query)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the driver has no context form
	return s.Stmt.Exec(vals)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	count(ctx, s.query)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the driver has no context form
	return s.Stmt.Query(vals)
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("db: named parameters are not supported")
		}
		vals[i] = a.Value
	}
	return vals, nil
}
