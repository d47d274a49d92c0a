package billing

import (
	"errors"
	"fmt"
)

// Code is a stable error id. The ids are a public contract (SCENARIOS.md):
// pages, the simulator and the staff API all report them.
type Code string

// Error ids. The first group is the simulator contract; the rest are the
// product's own refusals.
const (
	ECodeNotFound      Code = "code_not_found"
	ECodeNotYetValid   Code = "code_not_yet_valid"
	ECodeExpired       Code = "code_expired"
	ECodeTaken         Code = "code_taken"
	ECodePending       Code = "code_pending"
	ECampaignLimit     Code = "campaign_limit"
	ERegionNotEligible Code = "region_not_eligible"
	ENotAnUpgrade      Code = "not_an_upgrade"
	ENotADowngrade     Code = "not_a_downgrade"
	ENoPaymentMethod   Code = "no_payment_method"
	EPaymentFailed     Code = "payment_failed"
	EPaymentPending    Code = "payment_pending"
	ENothingToRetry    Code = "nothing_to_retry"
	EMonthNotCurrent   Code = "month_not_current"

	EUnknownPlan      Code = "unknown_plan"
	EUnknownAccount   Code = "unknown_account"
	ENoScheduledPlan  Code = "no_scheduled_change"
	EQuoteChanged     Code = "quote_changed"
	EInvalid          Code = "invalid_input"
	EForbidden        Code = "forbidden"
	EConflict         Code = "conflict"
	EChargeStale      Code = "charge_stale"
	EPaymentIneligble Code = "payment_method_not_eligible"
	ETransitionNotEl  Code = "transition_not_eligible"
	EWindowClosed     Code = "code_window_closed"
	ECodeMistyped     Code = "code_mistyped"
	EKeyReused        Code = "idempotency_key_reused"

	// Members and invitations (權限管理).
	ELastAdmin         Code = "last_admin"
	ENotAMember        Code = "not_a_member"
	EInvitationInvalid Code = "invitation_invalid"
	EInvitationUsed    Code = "invitation_used"
	EInvitationExpired Code = "invitation_expired"
	ELineTaken         Code = "line_linked_to_another_user"
	ELineOther         Code = "user_linked_to_another_line"
)

// messages holds every code's sentence, zh-TW first, then English.
var messages = map[Code][2]string{
	EQuotaExceeded:      {"本月的免費訊息則數已用完,此方案無法加購訊息。升級方案即可繼續傳送。", "This month's free messages are used up and this plan cannot buy additional messages. Upgrade to keep sending."},
	EUsageBatchConflict: {"此批次代號已用於另一筆不同內容的訊息記錄。", "This batch id was already used for a different usage record."},
	ECodeNotFound:       {"找不到此優惠活動代碼,請確認輸入是否正確。", "This promo code does not exist. Please check what you typed."},
	ECodeNotYetValid:    {"此優惠活動代碼尚未開始適用。", "This promo code is not valid yet."},
	ECodeExpired:        {"此優惠活動代碼已過期", "This promo code has expired."},
	ECodeTaken:          {"此優惠活動代碼已被其他帳號使用。", "This promo code has already been used by another account."},
	ECodePending:        {"此帳號已登錄一組尚未使用的優惠活動代碼,使用後才能再登錄。", "This account already holds an unused promo code; it must be used first."},
	ECampaignLimit:      {"此帳號已登錄過同一活動的優惠活動代碼(每個帳號限一組)。", "This account has already registered a code from this campaign (one per account)."},
	ERegionNotEligible:  {"此優惠活動代碼僅適用於台灣地區的官方帳號。", "This promo code is only for official accounts in an eligible region."},
	ENotAnUpgrade:       {"只能升級到比目前方案更高的方案。", "You can only upgrade to a higher plan than the current one."},
	ENotADowngrade:      {"只能降級到比目前方案更低的方案。", "You can only downgrade to a lower plan than the current one."},
	ENoPaymentMethod:    {"尚未設定付款方式,請先新增付款方式。", "No payment method is set. Please add one first."},
	EPaymentFailed:      {"付款失敗,未向您收取任何費用。", "The payment failed; nothing was charged."},

	EUnknownPlan:     {"沒有這個方案。", "There is no such plan."},
	EUnknownAccount:  {"找不到此帳號。", "No such account."},
	ENoScheduledPlan: {"目前沒有預定的方案變更。", "There is no scheduled plan change."},
	EQuoteChanged:    {"金額已變更,請確認新的金額後再購買。未向您收取任何費用。", "The amount has changed. Please review the new amount; nothing was charged."},
	EInvalid:         {"輸入內容不正確。", "The input is not valid."},
	EForbidden:       {"只有此帳號的管理員可以執行此操作。", "Only this account's admin can do this."},
	EConflict:        {"此操作正在處理中,請稍後再試。", "This operation is already in progress; try again shortly."},
	EPaymentPending:  {"有一筆付款正在處理中,完成前無法進行此操作,請稍後再試。", "A payment is being processed; this can be done once it is settled. Please try again shortly."},
	ENothingToRetry:  {"沒有需要重新付款的款項。", "There is nothing left to pay."},
	EMonthNotCurrent: {"只能續約進行中的月份。", "Only the month in progress can be renewed."},
	EKeyReused:       {"此購買識別碼已用於另一筆購買,本次未收取任何費用。", "This purchase key was already used for another purchase; nothing was charged this time."},
	EChargeStale:     {"此筆付款已不符合帳號目前的方案,不再收取。", "This charge no longer matches the account's plan and will not be collected."},

	Code(FailDeclined):          {"付款遭拒絕。", "The payment was declined."},
	Code(FailInsufficientFunds): {"餘額或額度不足。", "Insufficient funds."},
	Code(VoidStale):             {"此筆付款在送出前已不符合帳號目前的方案或月份,已取消,未收取任何費用。", "This charge no longer matched the account's plan or month before it was sent; it was cancelled and nothing was charged."},
	Code(VoidSuperseded):        {"本月費用已由另一筆付款(升級)付清,此筆已取消。", "Another payment (an upgrade) paid this month; this charge was cancelled."},
	Code(VoidNothingOwed):       {"本月費用已付清,此筆已取消。", "The month is already paid; this charge was cancelled."},
	Code(VoidGivenUp):           {"續約付款多次失敗或月份已結束,已取消;方案已改為輕用量。", "The renewal payment failed repeatedly or its month ended; it was cancelled and the plan moved to Light."},
	EPaymentIneligble:           {"此付款方式不適用優惠活動代碼(僅限信用卡或 LINE Pay)。", "This payment method is not eligible for the promo code (credit card or LINE Pay only)."},
	ETransitionNotEl:            {"此優惠活動代碼不適用於這項方案變更。", "This promo code does not apply to this plan change."},
	EWindowClosed:               {"此優惠活動代碼的有效期間不包含本次付款。", "This payment falls outside the promo code's validity window."},
	ECodeMistyped:               {"此優惠活動代碼的檢查碼不符,可能有字元打錯,請再核對一次。", "This promo code's check character does not match; a character was probably mistyped. Please check it again."},

	ELastAdmin:         {"帳號至少需要一位管理員。請先將其他成員設為管理員,再變更或移除這位管理員。", "An account needs at least one admin. Make another member an admin first, then change or remove this one."},
	ENotAMember:        {"此使用者不是這個帳號的成員。", "This user is not a member of this account."},
	EInvitationInvalid: {"此邀請連結無效或已被取消,請向帳號的管理員索取新的連結。", "This invitation link is not valid or was cancelled. Ask the account's admin for a new one."},
	EInvitationUsed:    {"此邀請連結已被使用,每個連結只能使用一次。請向帳號的管理員索取新的連結。", "This invitation link has already been used; each link works once. Ask the account's admin for a new one."},
	EInvitationExpired: {"此邀請連結已過期(有效期限為 7 天),請向帳號的管理員索取新的連結。", "This invitation link has expired (links last 7 days). Ask the account's admin for a new one."},
	ELineTaken:         {"這個 LINE 帳號已連結其他使用者。請先登出,再使用 LINE 登入並開啟邀請連結。", "This LINE account is linked to another user. Sign out first, then sign in with LINE and open the invitation link."},
	ELineOther:         {"您的帳號已連結另一個 LINE 帳號,請使用該 LINE 帳號,或以目前的帳號直接加入。", "Your account is linked to another LINE account. Use that LINE account, or join with your current account."},
}

// Error is a refusal with a stable code, a zh-TW message and an English one.
type Error struct {
	Code   Code
	Detail string // optional specifics, already in the user's words (zh-TW)
}

// Errorf returns an *Error with the given code; the detail is optional.
func Errorf(code Code, format string, args ...any) *Error {
	e := &Error{Code: code}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	return e
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return string(e.Code) + ": " + e.Detail
	}
	return string(e.Code) + ": " + e.Message("en")
}

// Message is the sentence shown to a user in lang ("zh-TW" or "en").
func (e *Error) Message(lang string) string {
	return CodeMessage(e.Code, lang)
}

// CodeMessage is the sentence for code in lang ("zh-TW" by default, or "en").
func CodeMessage(code Code, lang string) string {
	m, ok := messages[code]
	if !ok {
		if lang == "en" {
			return "Something went wrong."
		}
		return "發生錯誤,請稍後再試。"
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

// ErrorCode returns the code of err if it is or wraps an *Error, else "".
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
