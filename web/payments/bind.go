package payments

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"webstore/billing"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// Binding a payment method without a purchase: LINE Pay (request → the
// person approves in LINE → confirm, which issues the regKey renewals
// charge later; the NT$1 authorization this takes is voided) or a card
// entered on the card gateway's own page (one-time token → stored card
// token). The app never sees a card number. The HTTP side (the state
// cookie, the redirects, the pages) is the web package's.

// VerificationAmount is what LINE Pay authorizes, then voids, to bind a
// payment method without a purchase: LINE Pay issues a regKey only with a
// payment.
const VerificationAmount = 1

// ErrNotThisBinding is a provider's return, or LINE Pay's confirmation,
// that is not the binding this account started: nothing is kept.
var ErrNotThisBinding = errors.New("payments: not this account's binding")

// Binder binds payment methods with the providers.
type Binder struct {
	LinePay       *linepay.Client
	Cards         *cardgw.Client
	CardPublicKey string
}

// BoundMethod is a payment method a provider has bound, as the store keeps
// it.
type BoundMethod struct {
	Kind  billing.PaymentKind
	Token string // the LINE Pay regKey, or the stored card's id
	// Label names a LINE Pay method by the card LINE Pay charges:
	// "VISA •••• 4242".
	Label string
	// A card's brand, last four digits and expiry (MM/YY).
	Brand, Last4, Expiry string
}

// LinePayBinding is a LINE Pay binding requested: the person approves it
// at PaymentURL, and LINE Pay's return must name its transaction and order.
type LinePayBinding struct {
	TransactionID, OrderID string
	PaymentURL             string
}

// bindOrderPrefix begins the order id of every binding for an account.
func bindOrderPrefix(accountID string) string { return "bind-" + accountID + "-" }

// newNonce is 12 random URL-safe characters.
func newNonce() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:12]
}

// StartLinePay asks LINE Pay for the NT$1 authorization that binds the
// person's LINE Pay to accountID; LINE Pay sends them back to confirmURL
// once approved, or to cancelURL.
func (b Binder) StartLinePay(ctx context.Context, accountID, confirmURL, cancelURL string) (LinePayBinding, error) {
	orderID := bindOrderPrefix(accountID) + newNonce()
	res, err := b.LinePay.Request(ctx, linepay.RequestParams{
		Amount:        VerificationAmount,
		OrderID:       orderID,
		ProductName:   "LINE官方帳號 付款方式綁定(授權後立即取消)",
		ConfirmURL:    confirmURL,
		CancelURL:     cancelURL,
		AuthorizeOnly: true,
	})
	if err != nil {
		return LinePayBinding{}, err
	}
	return LinePayBinding{TransactionID: res.TransactionID, OrderID: orderID, PaymentURL: res.PaymentURL.Web}, nil
}

// LinePayConfirmed is a LINE Pay binding confirmed: its method, and the
// NT$1 authorization still to void.
type LinePayConfirmed struct {
	Method BoundMethod
	b      Binder
	txID   string
}

// Void releases the binding's NT$1 authorization, even when ctx (the
// request's) has ended. Call it once the method is kept (or not).
func (c LinePayConfirmed) Void(ctx context.Context) { c.b.voidBinding(ctx, c.txID) }

// ConfirmLinePay confirms the binding txID/orderID of accountID after the
// person approved it. The caller has checked that the return is the one
// its browser started; an order that is not a binding of accountID is
// ErrNotThisBinding before LINE Pay is asked anything. The authorization
// is always voided: here at once when LINE Pay gave no answer (it may have
// been made) or when its answer is not the order and amount requested
// (ErrNotThisBinding; the regKey is not kept), and otherwise by the
// caller's Void after the regKey is kept. A refusal by LINE Pay is its
// *linepay.APIError.
func (b Binder) ConfirmLinePay(ctx context.Context, accountID, txID, orderID string) (LinePayConfirmed, error) {
	if !strings.HasPrefix(orderID, bindOrderPrefix(accountID)) {
		return LinePayConfirmed{}, ErrNotThisBinding
	}
	res, err := b.LinePay.Confirm(ctx, txID, VerificationAmount, "TWD")
	if err != nil {
		var refused *linepay.APIError
		if !errors.As(err, &refused) {
			// No answer (a timeout, a 5xx): the authorization may have
			// been made.
			b.voidBinding(ctx, txID)
		}
		return LinePayConfirmed{}, err
	}
	if why := confirmMismatch(res, txID, orderID); why != "" {
		slog.Warn("linepay: the binding confirmation does not match the order; voided", "transaction", txID, "order", orderID, "mismatch", why)
		b.voidBinding(ctx, txID)
		return LinePayConfirmed{}, ErrNotThisBinding
	}
	// The method is shown as the card LINE Pay charges: "VISA •••• 4242".
	label := ""
	for _, pi := range res.PayInfo {
		if n := pi.MaskedCreditCardNumber; len(n) >= 4 {
			label = strings.TrimSpace(pi.CreditCardBrand + " •••• " + n[len(n)-4:])
		}
	}
	return LinePayConfirmed{Method: BoundMethod{Kind: billing.LinePay, Token: res.RegKey, Label: label}, b: b, txID: txID}, nil
}

// confirmMismatch says how LINE Pay's confirmation differs from the
// binding requested (its transaction, its order, NT$1, a regKey); "" when
// it does not.
func confirmMismatch(res linepay.ConfirmResult, txID, orderID string) string {
	var paid int64
	for _, pi := range res.PayInfo {
		paid += pi.Amount
	}
	switch {
	case res.TransactionID != txID:
		return "transaction " + res.TransactionID
	case res.OrderID != orderID:
		return "order " + res.OrderID
	case paid != VerificationAmount:
		return fmt.Sprintf("amount %d", paid)
	case res.RegKey == "":
		return "no regKey"
	}
	return ""
}

// voidBinding releases a binding's NT$1 authorization, even when the
// request's context has ended.
func (b Binder) voidBinding(ctx context.Context, txID string) {
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := b.LinePay.VoidAuthorization(vctx, txID); err != nil {
		slog.Error("linepay: void the binding authorization", "transaction", txID, "err", err)
	}
}

// CardFieldsURL is the card gateway's page where the person enters a card;
// the gateway sends them back to returnURL with a one-time card_token.
func (b Binder) CardFieldsURL(returnURL string) string {
	return cardgw.FieldsURL(b.Cards.BaseURL, b.CardPublicKey, returnURL)
}

// AttachCard turns the card page's one-time token into a stored card. A
// refusal by the gateway is its *cardgw.DeclineError or *cardgw.APIError.
func (b Binder) AttachCard(ctx context.Context, cardToken string) (BoundMethod, error) {
	card, err := b.Cards.AttachCard(ctx, cardToken)
	if err != nil {
		return BoundMethod{}, err
	}
	return BoundMethod{Kind: billing.CreditCard, Token: card.ID, Brand: card.Brand, Last4: card.Last4,
		Expiry: fmt.Sprintf("%02d/%02d", card.ExpMonth, card.ExpYear%100)}, nil
}

// RefusalMessage is a provider's own explanation, for the admin, of a
// method it declined; ok is false when err is not a provider's refusal
// (anything on the provider's or our side, to be retried).
func RefusalMessage(err error) (msg string, ok bool) {
	var lp *linepay.APIError
	if errors.As(err, &lp) {
		return lp.UserMessage(), true
	}
	var card *cardgw.DeclineError
	if errors.As(err, &card) {
		return card.UserMessage(), true
	}
	return "", false
}
