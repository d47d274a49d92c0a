package linepay

import "fmt"

// LINE Pay return codes this package and its sandbox use by name.
const (
	CodeSuccess              = "0000"
	CodeMerchantNotFound     = "1104" // the channel is not a LINE Pay merchant
	CodeHeaderError          = "1106" // bad or missing authentication headers
	CodeCardUnusable         = "1110"
	CodeAccountStatus        = "1141" // payment account status error
	CodeLowBalance           = "1142"
	CodeNoTransaction        = "1150" // no such transaction
	CodeDuplicateTransaction = "1152" // the transaction was already confirmed
	CodeAmountMismatch       = "1153"
	CodeAutoPayMethod        = "1154" // the method set up for automatic payment cannot be used
	CodeNoRequest            = "1159" // payment request information not found
	CodeNotApproved          = "1169" // the person has not chosen a method and approved in LINE Pay
	CodeDuplicateOrderID     = "1172" // a transaction with this orderId exists
	CodeCurrencyUnsupported  = "1178"
	CodeExpired              = "1180" // the payment's time ran out
	CodeAmountNotPositive    = "1183"
	CodeRegKeyUnavailable    = "1190"
	CodeRegKeyExpired        = "1193"
	CodeCardTemporary        = "1280" // a temporary error while paying by credit card
	CodeCardPayment          = "1281" // credit card payment error
	CodeCardAuthorization    = "1282" // credit card authorization error
	CodeSuspectedFraud       = "1283"
	CodeParameter            = "2101"
	CodeJSON                 = "2102"
	CodeInternal             = "9000"
)

// APIError is a LINE Pay answer with a returnCode other than 0000.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("linepay: returnCode %s: %s", e.Code, e.Message)
}

// Declined reports whether LINE Pay refused the payer's payment method
// (card, balance, account or regKey), as opposed to refusing the merchant's
// request: those are errors to fix on the merchant's side, not something the
// person can act on.
func (e *APIError) Declined() bool {
	switch e.Code {
	case "1101", "1102", CodeCardUnusable, CodeAccountStatus, CodeLowBalance, CodeAutoPayMethod, "1170",
		CodeRegKeyUnavailable, CodeRegKeyExpired:
		return true
	}
	// 1280–1299 are all credit card failures.
	return len(e.Code) == 4 && e.Code >= "1280" && e.Code <= "1299"
}

// UserMessage is the error as one plain zh-TW sentence for the person paying
// or the account's admin.
func (e *APIError) UserMessage() string {
	const p = "LINE Pay 付款失敗:"
	switch e.Code {
	case "1101", "1102":
		return p + "此 LINE 帳號目前無法使用 LINE Pay,請確認 LINE Pay 帳戶狀態或改用其他付款方式。"
	case CodeCardUnusable:
		return p + "這張信用卡無法使用,請改用其他卡片。"
	case CodeAccountStatus:
		return p + "LINE Pay 付款帳戶狀態異常,請在 LINE Pay 確認帳戶狀態或改用其他付款方式。"
	case CodeLowBalance, "1170":
		return p + "LINE Pay 餘額不足,請改用其他付款方式。"
	case CodeAutoPayMethod:
		return p + "自動付款所設定的付款方式無法使用,請重新設定 LINE Pay 付款方式。"
	case CodeRegKeyUnavailable, CodeRegKeyExpired:
		return p + "LINE Pay 自動付款授權已失效,請重新設定 LINE Pay 付款方式。"
	case CodeNoRequest, CodeNotApproved:
		return p + "尚未在 LINE 完成付款,請在 LINE 選擇付款方式並確認後再試一次。"
	case CodeExpired:
		return p + "付款期限已過,請重新付款。"
	case CodeDuplicateOrderID, CodeDuplicateTransaction:
		return p + "這筆訂單已經付款過,不會重複扣款。"
	case CodeCardTemporary:
		return p + "信用卡暫時無法付款,請稍後再試。"
	case CodeCardPayment:
		return p + "信用卡付款失敗,請改用其他卡片。"
	case CodeSuspectedFraud:
		return p + "這筆付款疑似盜刷而遭拒絕,請聯絡發卡銀行或改用其他卡片。"
	case "1288":
		return p + "信用卡餘額不足,請改用其他卡片。"
	case "1289", "1290":
		return p + "信用卡額度不足,請改用其他卡片。"
	case "1287":
		return p + "信用卡已過期,請改用其他卡片。"
	}
	if len(e.Code) == 4 && e.Code >= "1280" && e.Code <= "1299" {
		return p + "信用卡授權失敗,請改用其他卡片。"
	}
	return fmt.Sprintf("%s系統暫時無法處理(錯誤代碼 %s),請稍後再試或改用其他付款方式。", p, e.Code)
}

// RefundMessage is a refused refund as one plain zh-TW sentence for the
// staff member who asked for it.
func (e *APIError) RefundMessage() string {
	const p = "LINE Pay 退款失敗:"
	switch e.Code {
	case CodeNoTransaction:
		return p + "找不到這筆付款,請確認交易編號。"
	case CodeRefundNotEligible:
		return p + "這筆付款無法退款,請改以其他方式退還款項。"
	case CodeRefundPeriodOver:
		return p + "已超過可退款期限,請改以其他方式退還款項。"
	case CodeRefundExceeded:
		return p + "退款金額超過這筆付款尚可退款的金額。"
	case CodeAlreadyRefunded:
		return p + "這筆付款已經全額退款,不會重複退款。"
	case CodeStatusUnprocessable:
		return p + "這筆交易尚未請款,無法退款。"
	}
	return fmt.Sprintf("%s系統暫時無法處理(錯誤代碼 %s),請稍後再試。", p, e.Code)
}
