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

// DefaultOverviewCacheSize is how many overviews a Store keeps unless told
// otherwise (Store.OverviewCacheSize).
const DefaultOverviewCacheSize = 20000

func (s *Store) overviewCacheSize() int {
	if s.OverviewCacheSize == 0 {
		return DefaultOverviewCacheSize
	}
	return s.OverviewCacheSize
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

// overviewCache is a size-capped map: at the cap, storing an entry drops
// another one (the first Go's map iteration yields, in effect at random),
// so its memory is bounded by the cap times the largest row, however many
// accounts there are.
type overviewCache struct {
	mu      sync.Mutex
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

func (c *overviewCache) put(k overviewKey, e overviewEntry, size int) {
	if size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[overviewKey]overviewEntry{}
	}
	if _, ok := c.entries[k]; !ok {
		for drop := range c.entries {
			if len(c.entries) < size {
				break
			}
			delete(c.entries, drop)
		}
	}
	c.entries[k] = e
}

// Len is how many overviews the cache holds.
func (c *overviewCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// OverviewsCached is how many overviews the store's cache holds.
func (s *Store) OverviewsCached() int { return s.overviews.len() }

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
