package views

import (
	"strings"
	"testing"

	"webstore/billing"
)

func testCatalog(t *testing.T) billing.Catalog {
	t.Helper()
	c, err := billing.NewCatalog([]billing.Plan{
		{ID: billing.Light, NameZH: "輕用量", NameEN: "Light", Rank: 0},
		{ID: billing.Medium, NameZH: "中用量", NameEN: "Medium", Fee: 800, Rank: 1},
		{ID: billing.High, NameZH: "高用量", NameEN: "High", Fee: 1200, Rank: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Audit entries read as sentences, in the page's language, with plans,
// roles, statuses and reasons in words and instants in Taiwan time: never
// a JSON key, an enum's code or a UTC timestamp.
func TestAuditSentences(t *testing.T) {
	cat := testCatalog(t)
	failed := `{"ID":7,"Kind":"renewal","MonthDate":"2026-12-01T00:00:00Z","FromPlan":"high","Plan":"high","Total":1260,"Status":"failed",` +
		`"Failure":"declined","Attempts":1,"NextRetryAt":{"Time":"2026-12-02T01:00:00Z","Valid":true}}`
	for _, c := range []struct {
		kind, before, after string
		lang                Lang
		want                []string
	}{
		{"charge.failed", `{"ID":7,"Status":"pending"}`, failed, ZH, []string{
			"第 7 筆費用(自動續約 高用量,總計 NT$1,260)付款失敗:付款遭拒絕。",
			"已嘗試 1 次,下次自動重試於 2026/12/02 09:00(台灣時間)。",
			"狀態由「處理中」變為「付款失敗」。"}},
		{"charge.failed", `{"ID":7,"Status":"pending"}`, failed, EN, []string{
			"Charge 7 (renewal High, total NT$1,260) failed: The payment was declined.",
			"Attempts so far: 1; the next automatic retry is at 2026/12/02 09:00 (Taiwan time).",
			"Status: Processing → Failed."}},
		{"member.role_changed", `{"user_id":2,"login":"oscar","role":"operator"}`, `{"user_id":2,"login":"oscar","role":"admin","invitations_cancelled":0}`, ZH,
			[]string{"oscar 的權限由「操作人員」改為「管理員」。"}},
		{"invitation.created", "", `{"id":"ab","role":"operator_no_stats","created_by":1,"expires_at":"2026-11-30T04:00:00Z"}`, ZH,
			[]string{"建立一個「操作人員(無法查看統計資料)」權限的邀請連結,有效至 2026/11/30 12:00(台灣時間)。"}},
		{"plan.downgrade_scheduled", `{"plan":"high","scheduled_plan":""}`, `{"plan":"high","scheduled_plan":"light","scheduled_for":"2027-01"}`, EN,
			[]string{"Scheduled a downgrade from High to Light from 2027-01."}},
		{"einvoice.saved", "", `{"Kind":"company","CompanyTitle":"熊美股份有限公司","TaxID":"04595257","Email":"a@example.com"}`, ZH,
			[]string{"電子發票改為公司(三聯式,統一編號):熊美股份有限公司(統一編號 04595257)。", "通知寄至 a@example.com。"}},
		{"payment_method.added", "", `{"id":3,"kind":"credit_card","main":true,"brand":"visa","last4":"4242"}`, ZH,
			[]string{"新增付款方式 信用卡 Visa •••• 4242(#3),並設為主要付款方式。"}},
	} {
		got := c.lang.AuditSentences(c.kind, c.before, c.after, cat)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s (%s):\n got %q\nwant %q", c.kind, c.lang, got, c.want)
		}
	}
	// Every kind the store records has a name and sentences without
	// a snake_case key.
	for kind := range auditKinds {
		if ZH.AuditKind(kind) == kind || EN.AuditKind(kind) == kind {
			t.Errorf("%s has no name", kind)
		}
		for _, line := range ZH.AuditSentences(kind, "", `{"user_id":1}`, cat) {
			if strings.Contains(line, "_") {
				t.Errorf("%s: %q shows a key", kind, line)
			}
		}
	}
}

func TestAuditActor(t *testing.T) {
	for actor, want := range map[string]string{"user:alice": "使用者 alice", "staff:mei": "帳務人員 mei", "system:renew-cli": "系統(renew-cli)",
		"anonymous": "未登入的訪客", "test": "test"} {
		if got := ZH.AuditActor(actor); got != want {
			t.Errorf("AuditActor(%q) = %q, want %q", actor, got, want)
		}
	}
}
