package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// `renew` refuses a month that has ended or not begun before it touches
// the database, with a message naming the month (exit 2).
func TestRenewRefusesAMonthNotInProgress(t *testing.T) {
	for _, args := range [][]string{
		{"renew", "--month", "2025-01"},
		{"renew", "--month", "2024-08", "--at", "2024-07-15T10:00:00+08:00"},
		{"renew", "--month", "2024-06", "--at", "2024-06-30T23:00:00+08:00"}, // 00:00 JST on 7/1
	} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 || !strings.Contains(errs.String(), "month_not_current") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and month_not_current", args, code, errs.String())
		}
	}
}
