package billing

import "testing"

func TestRefundTally(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refunds []RefundStatus
		amounts []Money
		net     Money
		pending Money
		full    bool
		left    Money
	}{
		{"none", nil, nil, 1260, 0, false, 1260},
		{"part", []RefundStatus{RefundSucceeded}, []Money{420}, 840, 0, false, 840},
		{"failed gives nothing back", []RefundStatus{RefundFailed, RefundSucceeded}, []Money{1260, 420}, 840, 0, false, 840},
		{"pending is not given back yet", []RefundStatus{RefundSucceeded, RefundPending}, []Money{420, 840}, 840, 840, false, 0},
		{"full in two", []RefundStatus{RefundSucceeded, RefundSucceeded}, []Money{420, 840}, 0, 0, true, 0},
	} {
		tl := RefundTally{Total: 1260}
		for i, s := range tc.refunds {
			tl.Add(s, tc.amounts[i])
		}
		if tl.NetPaid() != tc.net || tl.Pending != tc.pending || tl.Full() != tc.full {
			t.Errorf("%s: net %d, pending %d, full %v; want %d, %d, %v", tc.name, tl.NetPaid(), tl.Pending, tl.Full(), tc.net, tc.pending, tc.full)
		}
		if tl.Left() != tc.left {
			t.Errorf("%s: left %d, want %d", tc.name, tl.Left(), tc.left)
		}
	}
	if (RefundTally{}).Full() {
		t.Error("a NT$0 charge reads as fully refunded")
	}
}
