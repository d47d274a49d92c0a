package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/db/loadgen"
)

const usageHelp = `usage SUBCOMMAND — message usage

  webstore usage record  --account ID --batch ID --kind KIND --messages N --at RFC3339
  webstore usage refresh --at RFC3339              recount the counts admins see (daily, ~02:00 JST)
  webstore usage bill    --month YYYY-MM [--collect]  make the month's additional-message charges
  webstore usage tiers   [--set FROM:MILLI,...]     show or replace the additional-message prices
  webstore usage token   --account ID [--label TEXT]  issue an API token for POST /api/usage
  webstore usage bench   --events 1000000 --batch 1000 [--workers 4]

Kinds: broadcast, push, progressive (billable); greeting, chat, auto_response, reply (free).`

// cmdUsage runs `webstore usage SUBCOMMAND`.
func cmdUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: webstore %s\n", usageHelp)
		if len(args) == 0 {
			return usageError{errors.New("no subcommand given")}
		}
		return nil
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"record": usageRecord, "refresh": usageRefresh, "bill": usageBill, "tiers": usageTiers,
		"token": usageToken, "bench": usageBench,
	}[args[0]]
	if sub == nil {
		return usageError{fmt.Errorf("unknown subcommand %q (record, refresh, bill, tiers, token, bench)", args[0])}
	}
	return sub(ctx, args[1:], stdout, stderr)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func parseInstantFlag(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, usageError{fmt.Errorf("--%s: want RFC 3339 with an offset, e.g. 2024-07-01T02:00:00+09:00", name)}
	}
	return t, nil
}

func usageRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage record", "usage record --account ID --batch ID --kind KIND --messages N --at RFC3339\n\nRecords a batch of messages sent and prints how it counted (free, additional).\nThe same batch again (same id, account, kind, count and instant) counts once.", stderr)
	acct := fs.String("account", "", "account id")
	batch := fs.String("batch", "", "the messaging side's batch id")
	kind := fs.String("kind", "", "broadcast, push, progressive, greeting, chat, auto_response or reply")
	n := fs.Int("messages", 0, "messages in the batch")
	at := fs.String("at", "", "when they were sent, RFC 3339 (part of the batch: a retry must repeat it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := parseInstantFlag("at", *at)
	if err != nil {
		return err
	}
	b := db.UsageBatch{BatchID: *batch, AccountID: *acct, Kind: billing.MessageKind(*kind), Messages: *n, SentAt: t}
	if err := b.Validate(); err != nil {
		return usageError{err}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	rec, err := s.RecordUsage(ctx, "system:usage-cli", b)
	if err != nil {
		return err
	}
	return printJSON(stdout, rec)
}

func usageRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage refresh", "usage refresh --at RFC3339\n\nRecounts the message counts admins see for the billing month containing the\ninstant (and the previous month on a month's first day). Run daily around\n02:00 JST.", stderr)
	at := fs.String("at", "", "the refresh instant, RFC 3339 (e.g. 2024-07-01T02:00:00+09:00)")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := parseInstantFlag("at", *at)
	if err != nil {
		return err
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	sum, err := s.RefreshUsage(ctx, t)
	if err != nil {
		return err
	}
	return printJSON(stdout, sum)
}

func usageBill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage bill", "usage bill --month YYYY-MM [--collect]\n\nMakes the month's additional-message charges (once per account; safe to run\ntwice), after the month has ended; best after the 02:00 JST refresh on the 1st\nso late reports are included.", stderr)
	month := fs.String("month", "", "the usage month, YYYY-MM")
	batch := fs.Int("batch", 10000, "accounts per transaction")
	collect := fs.Bool("collect", false, "then take payment for the pending charges")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := billing.ParseMonth(*month)
	if err != nil {
		return usageError{fmt.Errorf("--month: %w", err)}
	}
	cfg, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	sum, err := s.BillUsageInBatches(ctx, "system:usage-cli", m, *batch)
	if err != nil {
		return err
	}
	out := map[string]any{"usage": sum}
	if *collect {
		stop, err := usePayments(ctx, cfg, s)
		if err != nil {
			return err
		}
		defer stop()
		cs, err := s.Collect(ctx, "system:usage-cli", 0)
		if err != nil {
			return err
		}
		out["collection"] = cs
	}
	return printJSON(stdout, out)
}

// parseTiers reads "1:200,25001:150": from-message:price in milli-NT$.
func parseTiers(s string) ([]billing.UsageTier, error) {
	var tiers []billing.UsageTier
	for _, part := range strings.Split(s, ",") {
		from, price, ok := strings.Cut(strings.TrimSpace(part), ":")
		f, err1 := strconv.Atoi(from)
		p, err2 := strconv.ParseInt(price, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("tier %q: want FROM:PRICE_MILLI, e.g. 25001:150", part)
		}
		tiers = append(tiers, billing.UsageTier{From: f, PriceMilli: p})
	}
	return tiers, billing.ValidateUsageTiers(tiers)
}

func usageTiers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage tiers", "usage tiers [--set FROM:MILLI,...]\n\nShows the additional-message price tiers, or replaces them: each tier is the\nfirst additional message of the month it applies to and its price in\nthousandths of an NT$, e.g. --set 1:200,25001:150,100001:120,1000001:100.", stderr)
	set := fs.String("set", "", "the new tiers")
	actor := fs.String("actor", "staff:cli", "who makes the change, for the audit trail")
	if err := parse(fs, args); err != nil {
		return err
	}
	var tiers []billing.UsageTier
	if *set != "" {
		var err error
		if tiers, err = parseTiers(*set); err != nil {
			return usageError{fmt.Errorf("--set: %w", err)}
		}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	if tiers != nil {
		if err := s.SetUsageTiers(ctx, db.Actor(*actor), tiers); err != nil {
			return err
		}
	}
	cur, err := s.UsageTiers(ctx)
	if err != nil {
		return err
	}
	return printJSON(stdout, cur)
}

func usageToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage token", "usage token --account ID [--label TEXT]\n\nIssues an API token for the account's POST /api/usage and prints it. It is\nshown only this once (only its hash is stored).", stderr)
	acct := fs.String("account", "", "account id")
	label := fs.String("label", "", "what the token is for")
	actor := fs.String("actor", "staff:cli", "who issues it, for the audit trail")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *acct == "" {
		return usageError{errors.New("--account is required")}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	tok, err := s.CreateAPIToken(ctx, db.Actor(*actor), *acct, *label)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func usageBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("usage bench", "usage bench --events N --batch N [--workers N]\n\nRecords N messages in batches through RecordUsage against a throwaway schema\n(dropped afterwards) and prints the rate. Events are messages: a batch of\n1,000 messages is one row and one transaction.", stderr)
	events := fs.Int("events", 1_000_000, "messages to record")
	batch := fs.Int("batch", 1000, "messages per batch")
	workers := fs.Int("workers", 4, "concurrent recorders (each on its own high account)")
	accounts := fs.Int("accounts", 0, "accounts to spread the batches over (default: one per worker)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *events <= 0 || *batch <= 0 || *workers <= 0 || *accounts < 0 {
		return usageError{errors.New("--events, --batch and --workers must be positive")}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	sum, err := loadgen.BenchUsage(ctx, cfg.DatabaseURL, loadgen.UsageBenchOptions{Events: *events, Batch: *batch, Workers: *workers,
		Accounts: *accounts, At: time.Now()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d events in %d batches in %.2fs: %.0f events/s (%.0f batches/s)\n",
		sum.Events, sum.Batches, sum.Seconds, sum.EventsPerSec, sum.BatchesPerSec)
	return printJSON(stdout, sum)
}
