package views

import (
	"strings"
	"testing"
	"time"

	"webstore/billing"
)

// The preview's reasons are sentences: E5 (medium paid, a code, upgrade to
// high, LINE Pay assumed) and a light account with no payment method.
func TestPreviewReasonsRead(t *testing.T) {
	cat := testCatalog(t)
	camp := billing.DefaultCampaignTerms(billing.Campaign{ID: "s", Name: "夏季", FaceValue: 800,
		ValidFrom: time.Date(2024, 6, 7, 0, 0, 0, 0, billing.Taipei), ValidUntil: time.Date(2024, 8, 31, 23, 59, 59, 0, billing.Taipei)})
	at := time.Date(2024, 6, 11, 10, 0, 0, 0, billing.Taipei)
	in := billing.QuoteInput{Kind: billing.KindUpgrade, To: billing.High, At: at, Code: &billing.PromoCode{Code: "E50001", Status: billing.CodeRegistered}, Campaign: camp,
		Account: billing.Account{ID: "x", Region: "TW", Plan: billing.Medium, PaidMonth: billing.MonthOf(at), PaidFee: 800, Payment: billing.LinePay}}
	e5, _ := cat.Quote(in)
	next, _ := cat.Quote(billing.QuoteInput{Kind: billing.KindRenewal, Account: e5.Apply(in.Account), At: e5.Month.Next().Start()})
	in.Account = billing.Account{ID: "y", Region: "TW", Plan: billing.Light}
	none, noneErr := cat.Quote(in)
	for _, c := range []struct {
		l    Lang
		r    PreviewResult
		want []string
	}{
		{ZH, PreviewResult{Quote: e5, Next: &next, At: at, Code: "E5-0001", Typed: true, Held: true, Campaign: camp, Assumed: billing.LinePay}, []string{
			"帳號目前沒有付款方式;以下假設先新增LINE Pay,成為主要付款方式。",
			"代碼 E5-0001 可於 2024/06/11 10:00(台灣時間)登錄:活動「夏季」,面額 NT$800,有效期間為 2024/06/07 00:00 至 2024/08/31 23:59(台灣時間)。",
			"差額為高用量的月費 NT$1,200 減去本月已付的 NT$800,即 NT$400。",
			"代碼折抵 NT$400:取面額 NT$800 與本次方案金額 NT$400 中較低者。",
			"剩餘的 NT$400 失效:代碼須整組使用,餘額不保留。",
			"淨額為 NT$0,不收消費稅;總計 NT$0。",
			"之後 2024/06/30 23:00(台灣時間)的續約:高用量的月費 NT$1,200,總計 NT$1,260。"}},
		{EN, PreviewResult{Quote: none, At: at, Code: "E5-0001", Held: true, Campaign: camp, QuoteErr: noneErr}, []string{
			"Nothing is paid for this month yet, so the upgrade charges the High fee of NT$1,200.",
			"Code E5-0001 does not offset this charge: the account has no payment method, and this campaign accepts only a credit card or LINE Pay; " +
				"once one is added the code offsets (preview that with \"Assume a payment method\").",
			"Tax is 5% of the net NT$1,200: NT$60 (rounded half up); the total is NT$1,260.",
			"The purchase would be refused: No payment method is set. Please add one first."}},
		{ZH, PreviewResult{Quote: none, At: at, Code: "E5-0001", Held: true, Campaign: camp, QuoteErr: noneErr}, []string{
			"本月尚未付月費,升級收取高用量的月費 NT$1,200。",
			"代碼 E5-0001 不折抵這筆費用:帳號尚未設定付款方式,而此活動僅限以信用卡或 LINE Pay 付款;新增其中一種後即可折抵(可用「假設付款方式」試算)。",
			"消費稅為淨額 NT$1,200 的 5%,即 NT$60(四捨五入);總計 NT$1,260。",
			"實際購買會被拒絕:尚未設定付款方式,請先新增付款方式。"}},
	} {
		got := c.l.PreviewReasons(c.r, cat)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.l, got, c.want)
		}
	}
}
