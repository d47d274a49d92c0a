package db

import (
	"context"
	"sync"
	"time"
)

// The account pages' overview cache (issue #18). Every write to a table
// account_overview reads gives the account a new version in the same
// transaction (migration 020: triggers), or, for a write over many
// accounts, gives every account one through the global version. The
// session statement returns both versions for the account the path names
// (FindSessionIn), account_overview returns both as of the snapshot it
// read, and a page whose cached overview carries the versions its session
// statement just read is served without a second statement.
//
// What is cached is the statement's row, data only: the settled plan, the
// quotes, a code's status and the dates are computed from it at every
// request, with the request's clock and the reference data's version.
// The key holds everything else the row depends on: the account, the
// month (and so the next month) and what the page asked for. The staff
// account page's extras are not versioned and are never cached.

// DefaultOverviewCacheBytes is about how much memory a Store's overview
// cache may take unless told otherwise (Store.OverviewCacheBytes).
const DefaultOverviewCacheBytes = 32 << 20

// An entry's size is estimated, not measured: a row is 1.5 KB of fields
// (unsafe.Sizeof) and a little text; each charge, method, e-invoice, refund
// or allowance in it 150–360 bytes and its text.
const (
	entryBytes = 2048
	itemBytes  = 512
)

func (s *Store) overviewCacheBytes() int {
	if s.OverviewCacheBytes == 0 {
		return DefaultOverviewCacheBytes
	}
	return s.OverviewCacheBytes
}

// size is the row's estimated size in memory.
func (r *overviewRow) size() int {
	items := len(r.Methods) + len(r.Owed) + len(r.Charges) + len(r.Invoices) + len(r.Refunds) + len(r.Allowances)
	return entryBytes + itemBytes*items
}

// overviewKey is what an overview row depends on besides the versions.
type overviewKey struct {
	account    string
	month      time.Time
	skip       OverviewParts
	charges    bool
	charge     int64
	codeCharge bool
}

// overviewEntry is a row as account_overview returned it and the versions
// it returned with it. The row is never written to once cached.
type overviewEntry struct {
	version, global int64
	row             *overviewRow
}

// overviewCache is a map capped by the estimated size of its rows: at the
// cap, storing an entry drops others (the first ones Go's map iteration
// yields, in effect at random), so its memory is bounded by the cap,
// however many accounts there are. A row larger than an eighth of the cap
// (an account with thousands of charges) is not kept.
type overviewCache struct {
	mu      sync.Mutex
	bytes   int
	entries map[overviewKey]overviewEntry
}

func (c *overviewCache) get(k overviewKey, version, global int64) (*overviewRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || e.version != version || e.global != global {
		return nil, false
	}
	return e.row, true
}

func (c *overviewCache) put(k overviewKey, e overviewEntry, capBytes int) {
	size := e.row.size()
	if capBytes <= 0 || size > capBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[overviewKey]overviewEntry{}
	}
	if old, ok := c.entries[k]; ok {
		c.bytes -= old.row.size()
		delete(c.entries, k)
	}
	for drop, old := range c.entries {
		if c.bytes+size <= capBytes {
			break
		}
		c.bytes -= old.row.size()
		delete(c.entries, drop)
	}
	c.entries[k] = e
	c.bytes += size
}

// OverviewsCached is how many overviews the store's cache holds and their
// estimated size in bytes.
func (s *Store) OverviewsCached() (n, bytes int) {
	s.overviews.mu.Lock()
	defer s.overviews.mu.Unlock()
	return len(s.overviews.entries), s.overviews.bytes
}

// accountVersion is what a request's session statement read about the
// account its path names: its versions, and how many statements the
// request had made by then.
type accountVersion struct {
	account         string
	version, global int64
	statements      int
}

type accountVersionKey struct{}

// WithAccountVersion records in ctx the versions of accountID that the
// request's session statement read (Session.AccountVersion). The request's
// overview of that account is served from the cache when the cached one
// carries the same versions and the request has made no statement since
// (a write made before the page is drawn is then seen: the request reads
// the overview again).
func WithAccountVersion(ctx context.Context, accountID string, version, global int64) context.Context {
	if accountID == "" || version == 0 {
		return ctx
	}
	c := StatementsIn(ctx)
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, accountVersionKey{}, accountVersion{account: accountID, version: version, global: global, statements: c.N()})
}

// cachedVersion returns the versions ctx carries for accountID, if the
// request has made no statement since they were read.
func cachedVersion(ctx context.Context, accountID string) (accountVersion, bool) {
	v, ok := ctx.Value(accountVersionKey{}).(accountVersion)
	if !ok || v.account != accountID || StatementsIn(ctx).N() != v.statements {
		return accountVersion{}, false
	}
	return v, true
}
