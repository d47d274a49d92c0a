package billing

// RefundTally is what a paid charge's refunds add up to, as its pages say
// it: given back, still with the provider, and what the charge has paid
// net of what was given back. A failed refund gave nothing back.
type RefundTally struct {
	Total    Money // the charge's total
	Refunded Money // succeeded refunds
	Pending  Money // refunds the provider has not answered yet
}

// Add counts one refund of the charge.
func (t *RefundTally) Add(status RefundStatus, amount Money) {
	switch status {
	case RefundSucceeded:
		t.Refunded += amount
	case RefundPending:
		t.Pending += amount
	}
}

// NetPaid is what the charge paid less what was given back.
func (t RefundTally) NetPaid() Money { return t.Total - t.Refunded }

// Full is whether everything the charge paid was given back.
func (t RefundTally) Full() bool { return t.Total > 0 && t.Refunded >= t.Total }

// Left is what may still be refunded: the total less what was given back
// and what the provider has not answered yet (RefundAmount's bound).
func (t RefundTally) Left() Money { return t.Total - t.Refunded - t.Pending }
