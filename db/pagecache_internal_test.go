package db

import (
	"fmt"
	"testing"
)

// The overview cache holds no more than its cap in estimated bytes, however
// many accounts' overviews it is given, and answers only for the versions
// an entry was stored with.
func TestOverviewCacheStaysUnderItsCap(t *testing.T) {
	var c overviewCache
	const capBytes = 100 * entryBytes
	for i := range 10000 {
		row := &overviewRow{Charges: make(jsonList[Charge], i%7)}
		c.put(overviewKey{account: fmt.Sprint(i)}, overviewEntry{version: int64(i), global: 1, row: row}, capBytes)
		if c.bytes > capBytes {
			t.Fatalf("after %d puts: %d bytes, cap %d", i+1, c.bytes, capBytes)
		}
	}
	sum := 0
	for _, e := range c.entries {
		sum += e.row.size()
	}
	if sum != c.bytes || len(c.entries) == 0 {
		t.Fatalf("%d entries of %d bytes, counted %d", len(c.entries), sum, c.bytes)
	}
	k := overviewKey{account: "9999"}
	if _, ok := c.get(k, 9999, 1); !ok {
		t.Fatal("the last entry stored is not there")
	}
	if _, ok := c.get(k, 9998, 1); ok {
		t.Fatal("an entry answered for another account version")
	}
	if _, ok := c.get(k, 9999, 2); ok {
		t.Fatal("an entry answered for another global version")
	}
	// Storing the same key again replaces it and keeps the count right.
	c.put(k, overviewEntry{version: 10000, global: 1, row: &overviewRow{}}, capBytes)
	if _, ok := c.get(k, 10000, 1); !ok {
		t.Fatal("the replaced entry is not there")
	}
	// A row over an eighth of the cap is not kept.
	big := &overviewRow{Charges: make(jsonList[Charge], capBytes/itemBytes)}
	c.put(overviewKey{account: "big"}, overviewEntry{version: 1, global: 1, row: big}, capBytes)
	if _, ok := c.get(overviewKey{account: "big"}, 1, 1); ok {
		t.Fatal("a row over an eighth of the cap was kept")
	}
}
