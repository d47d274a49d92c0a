package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
)

func TestUsageCommand(t *testing.T) {
	d, dsn := dbtest.New(t)
	t.Setenv("DATABASE_URL", dsn)
	ctx := context.Background()
	st := db.New(d, billing.SystemClock, nil)
	if err := st.CreateAccount(ctx, "test", db.NewAccount{ID: "dog", Region: "TW", Plan: billing.High}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := cmdUsage(ctx, args, &out, &errOut)
		return out.String(), err
	}
	var ue usageError
	for _, args := range [][]string{
		nil,
		{"nope"},
		{"record", "--account", "dog", "--batch", "b1", "--kind", "push", "--messages", "5"}, // no --at
		{"record", "--account", "dog", "--batch", "b1", "--kind", "sms", "--messages", "5", "--at", "2024-06-30T22:59:30+08:00"},
		{"refresh", "--at", "yesterday"},
		{"bill", "--month", "June"},
		{"tiers", "--set", "2:200"},
		{"token"},
	} {
		if _, err := run(args...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}

	out, err := run("record", "--account", "dog", "--batch", "b1", "--kind", "broadcast", "--messages", "6100", "--at", "2024-06-30T22:59:30+08:00")
	if err != nil {
		t.Fatal(err)
	}
	var rec db.UsageRecord
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Month != "2024-06" || rec.Free != 6000 || rec.Additional != 100 {
		t.Errorf("record: %s %v", out, err)
	}
	if out, err := run("refresh", "--at", "2024-07-01T02:00:00+09:00"); err != nil || !strings.Contains(out, `"2024-06"`) {
		t.Errorf("refresh: %s %v", out, err)
	}
	if u, _ := st.FindUsage(ctx, "dog", billing.Month{Year: 2024, Month: 6}); u.FreeSent != 6000 || u.AdditionalSent != 100 {
		t.Errorf("usage after refresh: %+v", u)
	}
	if out, err := run("bill", "--month", "2024-06"); err != nil || !strings.Contains(out, `"charges": 1`) || !strings.Contains(out, `"total": 21`) {
		t.Errorf("bill: %s %v", out, err) // 100 × NT$0.20 = 20, tax 1
	}
	if out, err := run("tiers", "--set", "1:180,50001:90"); err != nil || !strings.Contains(out, `"price_milli": 90`) {
		t.Errorf("tiers: %s %v", out, err)
	}
	out, err = run("token", "--account", "dog", "--label", "messaging")
	if acct, ferr := st.FindAPIToken(ctx, strings.TrimSpace(out)); err != nil || ferr != nil || acct != "dog" {
		t.Errorf("token: %q %v %v", out, err, ferr)
	}
	if out, err := run("bench", "--events", "10000", "--batch", "1000", "--workers", "2"); err != nil || !strings.Contains(out, `"events": 10000`) {
		t.Errorf("bench: %s %v", out, err)
	}
}
