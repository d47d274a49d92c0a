package billing

import (
	"strings"
	"testing"
	"time"
)

// Names are trimmed; values of only invisible characters, bidi controls
// and control characters are refused; lengths count characters.
func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in, want, fault string
	}{
		{"  貓咪咖啡  ", "貓咪咖啡", ""},
		{"\u200b貓咪咖啡\ufeff", "貓咪咖啡", ""},
		{"\u200b", "", "不可空白"},
		{"\u202e", "", "不可空白"},
		{"\u3164\u3000 ", "", "不可空白"},
		{"貓\u202e咪", "", "改變文字方向"},
		{"貓\u2067咪", "", "改變文字方向"},
		{"貓\n咪", "", "控制字元"},
		{strings.Repeat("熊", 20), strings.Repeat("熊", 20), ""},
		{strings.Repeat("熊", 21), "", "最多 20 個字"},
		{"bad\xffutf8", "", "無效"},
	} {
		got, err := CleanText("帳號名稱", tc.in, MaxAccountName)
		if tc.fault == "" {
			if err != nil || got != tc.want {
				t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tc.fault) {
			t.Errorf("%q: %q, %v; want EInvalid saying %q", tc.in, got, err, tc.fault)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"summer-2024": true, "A_b-9": true, strings.Repeat("x", 40): true,
		"": false, strings.Repeat("x", 41): false, "q?x=1#f": false, "a/b": false, "a b": false, "é": false, "..": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

// A campaign's face value is at most the cap given (the highest plan fee
// by default), its id fits a URL and its name is clean.
func TestCampaignBounds(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, Taipei)
	ok := Campaign{ID: "x", Name: "冬季", FaceValue: 1800, ValidFrom: from, ValidUntil: from.AddDate(0, 1, 0)}
	if err := ok.ValidateNew(1800); err != nil {
		t.Fatalf("a face value at the cap: %v", err)
	}
	for name, tc := range map[string]struct {
		mut   func(*Campaign)
		cap   Money
		fault string
	}{
		"over the cap":     {func(c *Campaign) { c.FaceValue = 1801 }, 1800, "面額最多 NT$1800"},
		"int64 max":        {func(c *Campaign) { c.FaceValue = 9223372036854775807 }, 1800, "面額最多"},
		"raised cap bound": {func(c *Campaign) { c.FaceValue = MaxTypedMoney + 1 }, 1 << 62, "面額最多"},
		"id with ?":        {func(c *Campaign) { c.ID = "q?x=1#f" }, 1800, "活動代號只能"},
		"id with /":        {func(c *Campaign) { c.ID = "a/b" }, 1800, "活動代號只能"},
		"name rlo":         {func(c *Campaign) { c.Name = "冬\u202e季" }, 1800, "改變文字方向"},
		"name too long":    {func(c *Campaign) { c.Name = strings.Repeat("冬", 61) }, 1800, "最多 60 個字"},
	} {
		c := ok
		tc.mut(&c)
		if err := c.ValidateNew(tc.cap); err == nil || !strings.Contains(err.Error(), tc.fault) {
			t.Errorf("%s: %v, want a refusal saying %q", name, err, tc.fault)
		}
	}
	if err := (Campaign{ID: "x", FaceValue: 5000, ValidFrom: from, ValidUntil: from.AddDate(0, 1, 0)}).Validate(10000); err != nil {
		t.Errorf("under a raised cap: %v", err)
	}
}

// The e-invoice company title: trimmed, at most 60 characters, never only
// invisible characters.
func TestInvoiceTitleBounds(t *testing.T) {
	d := InvoiceDetails{Kind: InvoiceCompany, TaxID: "22099131", Email: "a@b.tw"}
	for title, fault := range map[string]string{
		strings.Repeat("範", 60):    "",
		strings.Repeat("範", 61):    "最多 60 個字",
		strings.Repeat("範", 60000): "最多 60 個字",
		"\u200b\u200b":             "請輸入公司抬頭",
		"範例\u202e公司":               "改變文字方向",
	} {
		d.CompanyTitle = title
		err := d.Normalize().Validate()
		if fault == "" && err != nil || fault != "" && (err == nil || !strings.Contains(err.Error(), fault)) {
			t.Errorf("title of %d characters %.20q: %v, want %q", len([]rune(title)), title, err, fault)
		}
	}
}
