// Package billingtest holds test doubles for the billing core's
// interfaces, for the tests of every package (standard library only).
package billingtest

import (
	"sync"
	"time"

	"webstore/billing"
)

// Clock is a settable billing.Clock, safe for concurrent use: a test moves
// it while a server or store reads it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

var _ billing.Clock = (*Clock)(nil)

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now implements billing.Clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
