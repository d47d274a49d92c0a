package linepay

// The sandbox's cards "bound to LINE Pay" (see the package doc), by id: the
// value of the card radio button on the phone page.
const (
	CardCathayVisa        = "cathay-visa-4242"
	CardCTBCMastercard    = "ctbc-master-4444"
	CardDeclinedAtConfirm = "taishin-visa-0002" // Confirm fails with 1281
	CardDeclinedLater     = "esun-jcb-0341"     // preapproved payments fail with 1281
	CardAccountError      = "fubon-master-1141" // preapproved payments fail with 1141
	CardRefundRefused     = "sinopac-visa-1155" // pays; every refund fails with 1155
)

// sandboxCard is a card the sandbox's LINE Pay user has bound.
type sandboxCard struct {
	ID    string
	Bank  string
	Brand string // as people write it: Visa, Mastercard, JCB
	Code  string // as LINE Pay's creditCardBrand: VISA, MASTER, JCB
	Last4 string
	// Note tells a tester what the card does; empty for cards that pay.
	Note string
	// confirmFails and paymentFails are the return codes of a Confirm and
	// of a preapproved payment with this card; empty when they pay.
	confirmFails string
	paymentFails string
	// refundFails is the return code of every refund of a payment made
	// with this card; empty when refunds are made.
	refundFails string
}

// sandboxCards lists the cards in the order the phone page shows them.
func sandboxCards() []sandboxCard {
	return []sandboxCard{
		{ID: CardCathayVisa, Bank: "國泰世華", Brand: "Visa", Code: "VISA", Last4: "4242"},
		{ID: CardCTBCMastercard, Bank: "中國信託", Brand: "Mastercard", Code: "MASTER", Last4: "4444"},
		{ID: CardDeclinedAtConfirm, Bank: "台新", Brand: "Visa", Code: "VISA", Last4: "0002",
			Note: "測試卡:確認付款時信用卡付款失敗 (1281)", confirmFails: CodeCardPayment},
		{ID: CardDeclinedLater, Bank: "玉山", Brand: "JCB", Code: "JCB", Last4: "0341",
			Note: "測試卡:可設定自動付款,之後每次扣款都失敗 (1281)", paymentFails: CodeCardPayment},
		{ID: CardAccountError, Bank: "台北富邦", Brand: "Mastercard", Code: "MASTER", Last4: "1141",
			Note: "測試卡:可設定自動付款,之後每次扣款都因帳戶狀態異常失敗 (1141)", paymentFails: CodeAccountStatus},
		{ID: CardRefundRefused, Bank: "永豐", Brand: "Visa", Code: "VISA", Last4: "1155",
			Note: "測試卡:付款成功,之後每次退款都失敗 (1155)", refundFails: CodeRefundNotEligible},
	}
}

func findCard(id string) (sandboxCard, bool) {
	for _, c := range sandboxCards() {
		if c.ID == id {
			return c, true
		}
	}
	return sandboxCard{}, false
}

// Label is how the pages name the card: 國泰世華 Visa •••• 4242.
func (c sandboxCard) Label() string { return c.Bank + " " + c.Brand + " •••• " + c.Last4 }

// payInfo is the card's part of an API answer.
func (c sandboxCard) payInfo(amount int64) PayInfo {
	return PayInfo{Method: "CREDIT_CARD", Amount: amount, CreditCardNickname: c.Bank + " " + c.Brand,
		CreditCardBrand: c.Code, MaskedCreditCardNumber: "************" + c.Last4}
}
