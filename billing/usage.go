package billing

import (
	"fmt"
	"time"
)

// Message usage: which messages count against a plan's monthly quota, how a
// batch splits into free and additional messages, and what additional
// messages cost.
//
// The plan page shows "已傳送的免費訊息則數 n / quota" and "已傳送的加購訊息則數";
// the quota is the catalog's Plan.FreeMessages, never a constant here.

// Usage refusal codes (their sentences are in errors.go's table).
const (
	// EQuotaExceeded refuses a batch that would take a plan without
	// additional messages (light, medium) over its monthly quota.
	EQuotaExceeded Code = "quota_exceeded"
	// EUsageBatchConflict refuses a batch id already recorded with different
	// content (another account, kind, count or instant).
	EUsageBatchConflict Code = "usage_batch_conflict"
)

// MessageKind is how a message was sent, as the messaging side reports it.
type MessageKind string

// Message kinds. Broadcasts, push and progressive (step) messages are
// billable; greeting messages, 1:1 chat, auto-responses and Reply API
// messages are free: they may be recorded but never count.
const (
	MsgBroadcast    MessageKind = "broadcast"
	MsgPush         MessageKind = "push"
	MsgProgressive  MessageKind = "progressive"
	MsgGreeting     MessageKind = "greeting"
	MsgChat         MessageKind = "chat"
	MsgAutoResponse MessageKind = "auto_response"
	MsgReply        MessageKind = "reply"
)

// MessageKinds lists every kind, billable first.
var MessageKinds = []MessageKind{MsgBroadcast, MsgPush, MsgProgressive, MsgGreeting, MsgChat, MsgAutoResponse, MsgReply}

// Valid reports whether k is a known kind.
func (k MessageKind) Valid() bool {
	for _, v := range MessageKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Billable reports whether messages of kind k count against the quota.
func (k MessageKind) Billable() bool {
	return k == MsgBroadcast || k == MsgPush || k == MsgProgressive
}

// MaxBatchMessages bounds one batch, so running totals stay far inside
// int32 columns and milli-NT$ products inside int64.
const MaxBatchMessages = 10_000_000

// UsageBatch is one report of messages sent: the messaging side's batch id
// (a re-sent batch counts once), the account, the kind, how many messages
// and when they were sent. The billing month is the JST month of SentAt.
type UsageBatch struct {
	BatchID   string
	AccountID string
	Kind      MessageKind
	Messages  int
	SentAt    time.Time
}

// Validate checks a batch's fields (not the quota); EInvalid with a zh-TW
// detail when one is wrong.
func (b UsageBatch) Validate() error {
	switch {
	case b.BatchID == "" || len(b.BatchID) > 200:
		return Errorf(EInvalid, "批次代號必須是 1 到 200 個字元")
	case b.AccountID == "":
		return Errorf(EInvalid, "帳號代號不可空白")
	case !b.Kind.Valid():
		return Errorf(EInvalid, "未知的訊息種類 %q", b.Kind)
	case b.Messages <= 0 || b.Messages > MaxBatchMessages:
		return Errorf(EInvalid, "訊息則數必須介於 1 到 %d 之間", MaxBatchMessages)
	case b.SentAt.IsZero():
		return Errorf(EInvalid, "缺少傳送時間")
	}
	return nil
}

// MaxSentAtAhead is how far ahead of the server's clock a reported sending
// time may be (clocks drift a little; a batch is reported after it is sent).
const MaxSentAtAhead = 5 * time.Minute

// CheckSentAt refuses, as EInvalid, a batch reported at now whose sending
// time is neither in the billing month of now nor in the one before (whose
// usage charges are made after it ends), or is more than MaxSentAtAhead
// ahead of now. Year 0 and last year are refused; so is next week.
func CheckSentAt(sentAt, now time.Time) error {
	if sentAt.After(now.Add(MaxSentAtAhead)) {
		return Errorf(EInvalid, "傳送時間 %s 晚於現在超過 %d 分鐘", sentAt.Format(time.RFC3339), int(MaxSentAtAhead.Minutes()))
	}
	if prev := MonthOf(now).Prev(); sentAt.Before(prev.Start()) {
		return Errorf(EInvalid, "傳送時間 %s 必須在本月或上個月(%s 起)的帳務月份內", sentAt.Format(time.RFC3339), prev.Start().In(Taipei).Format(time.RFC3339))
	}
	return nil
}

// Month is the billing month the batch counts for: a message at 22:59:30
// Taiwan time on the last day counts for that month, one at 23:00 for the
// next.
func (b UsageBatch) Month() Month { return MonthOf(b.SentAt) }

// SplitUsage splits a billable batch of n messages for an account on plan p
// that has already sent `sent` billable messages this month (free and
// additional together, including those sent before an upgrade: the quota is
// the current plan's, messages already sent still count, nothing carries
// over from earlier months).
//
// Messages up to the quota are free. On a plan with Additional the rest are
// additional messages, billed after the month; on any other plan a batch that
// would go over the quota is refused whole with EQuotaExceeded (a batch of
// exactly the remaining quota is accepted).
func SplitUsage(p Plan, sent, n int) (free, additional int, err error) {
	left := max(p.FreeMessages-sent, 0)
	free = min(n, left)
	additional = n - free
	if additional > 0 && !p.Additional {
		return 0, 0, Errorf(EQuotaExceeded, "本月的免費訊息則數已用完:%s方案每月 %d 則,已傳送 %d 則,本批次 %d 則。此方案無法加購訊息,請升級方案後再傳送。",
			p.NameZH, p.FreeMessages, sent, n)
	}
	return free, additional, nil
}

// UsageTier is one bracket of the additional-message price: every additional
// message from the From-th of the month on (1-based) costs PriceMilli
// thousandths of an NT$ until the next tier starts. Prices are cumulative,
// like income-tax brackets: a month's 30,000th message costs the second
// tier's price, its first 25,000 still the first's.
//
// The tiers are catalog data (the usage_tiers table), editable by staff.
// The migration seeds a documented default, not LINE's official table:
//
//	messages 1–25,000           NT$0.200 each (200 milli)
//	messages 25,001–100,000     NT$0.150 each
//	messages 100,001–1,000,000  NT$0.120 each
//	beyond 1,000,000            NT$0.100 each
type UsageTier struct {
	From       int   `json:"from"`
	PriceMilli int64 `json:"price_milli"`
}

// MaxPriceMilli caps a tier's price (NT$1,000 a message) so a month's sum in
// milli-NT$ cannot overflow int64 and a typo cannot bill millions.
const MaxPriceMilli = 1_000_000

// ValidateUsageTiers checks a tier table: at least one tier, the first
// starting at message 1, starts strictly increasing, prices from 0 to
// MaxPriceMilli.
// EInvalid with a zh-TW detail otherwise.
func ValidateUsageTiers(tiers []UsageTier) error {
	if len(tiers) == 0 {
		return Errorf(EInvalid, "加購訊息價格至少需要一個級距")
	}
	if tiers[0].From != 1 {
		return Errorf(EInvalid, "第一個級距必須從第 1 則開始")
	}
	for i, t := range tiers {
		if i > 0 && t.From <= tiers[i-1].From {
			return Errorf(EInvalid, "級距的起始則數必須遞增(第 %d 個級距)", i+1)
		}
		if t.PriceMilli < 0 || t.PriceMilli > MaxPriceMilli {
			return Errorf(EInvalid, "單價必須介於 0 到 NT$%d 之間(第 %d 個級距)", MaxPriceMilli/1000, i+1)
		}
	}
	return nil
}

// UsageAmount is the pre-tax price of a month's `additional` messages under
// tiers (valid per ValidateUsageTiers): each message at its tier's price,
// summed in milli-NT$ and rounded half up to a whole NT$ once, at the end.
func UsageAmount(tiers []UsageTier, additional int) Money {
	var milli int64
	for i, t := range tiers {
		if additional < t.From {
			break
		}
		last := additional // the last message in this tier
		if i+1 < len(tiers) && tiers[i+1].From-1 < last {
			last = tiers[i+1].From - 1
		}
		milli += int64(last-t.From+1) * t.PriceMilli
	}
	return Money((milli + 500) / 1000)
}

// UsageCharge is the lines of a month's additional-message charge. It is not
// a plan fee: no promo code ever offsets it, so the net is the amount and
// tax is 5% of it.
type UsageCharge struct {
	Month      Month
	Additional int
	Amount     Money
	Net        Money
	Tax        Money
	Total      Money
}

// QuoteUsage prices a month's additional messages under tiers.
func QuoteUsage(tiers []UsageTier, m Month, additional int) (UsageCharge, error) {
	if err := ValidateUsageTiers(tiers); err != nil {
		return UsageCharge{}, fmt.Errorf("usage tiers: %w", err)
	}
	c := UsageCharge{Month: m, Additional: additional, Amount: UsageAmount(tiers, additional)}
	c.Net = c.Amount
	c.Tax = TaxOn(c.Net)
	c.Total = c.Net + c.Tax
	return c, nil
}
