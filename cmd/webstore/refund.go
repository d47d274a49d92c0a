package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"webstore/billing"
	"webstore/db"
)

// cmdRefund is `webstore refund`: a staff refund of a paid charge through
// the provider that took it, as the console's refund form makes it.
func cmdRefund(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("refund", `refund --charge ID [--amount N] --reason TEXT [--key K] [--by NAME]

Refunds a paid charge, all that is left of it or N NT$, through the
provider that took the payment, and cancels or allows against its
e-invoice. The same command again (same charge, amount and reason, or the
same --key) answers with the first refund instead of refunding twice.
Prints the refund as JSON; exit 1 if the provider refused it or has not
answered (it is asked again by collect and serve).`, stderr)
	charge := fs.Int64("charge", 0, "the charge's id (required)")
	amount := fs.Int64("amount", 0, "NT$ to refund (default: all that is left)")
	reason := fs.String("reason", "", "why, as staff will read it in the audit trail (required)")
	key := fs.String("key", "", "idempotency key (default: derived from charge, amount and reason)")
	by := fs.String("by", "cli", "who asks, recorded in the audit trail as staff:NAME")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *charge <= 0 || *reason == "" || *amount < 0 {
		return usageError{errors.New("--charge and --reason are required; --amount, when given, is a positive whole number of NT$")}
	}
	if *key == "" {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%d\x00%s", *charge, *amount, *reason)))
		*key = "cli-" + hex.EncodeToString(h[:12])
	}
	cfg, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	stop, err := usePayments(ctx, cfg, s)
	if err != nil {
		return err
	}
	defer stop()
	r, err := s.Refund(ctx, db.Actor("staff:"+*by), db.RefundRequest{ChargeID: *charge, Amount: billing.Money(*amount), Reason: *reason, Key: *key})
	if r.ID != 0 {
		if jerr := json.NewEncoder(stdout).Encode(r); jerr != nil {
			return jerr
		}
	}
	switch billing.ErrorCode(err) {
	case billing.EInvalid, billing.EConflict, billing.EKeyReused:
		return usageError{err}
	}
	return err
}
