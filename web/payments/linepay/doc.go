// Package linepay is a client for the LINE Pay Online API v3 and a local
// sandbox that speaks the same wire protocol, so the webstore can be run and
// tested end to end without LINE.
//
// # Client
//
// Client signs every call as LINE Pay v3 requires and turns any returnCode
// other than 0000 into an *APIError, whose UserMessage is a zh-TW sentence
// for the person paying. Transaction ids are 19-digit numbers and are kept
// as strings, never as float64.
//
// # Refunds
//
// Client.Refund(ctx, transactionID, amount) calls
//
//	POST /v3/payments/{transactionId}/refund   {"refundAmount": N}, or {} for all that remains
//
// for a captured payment: the transactionId PayPreapproved returned (what the
// store keeps as a charge's payment reference) or one a Confirm captured. It
// returns the refund's own transaction id (info.refundTransactionId) and
// date. A payment is refunded in parts until its amount is used up. The
// outcomes a caller tells apart:
//
//   - nil: refunded.
//   - an *APIError: refused, nothing refunded. 1150 no such payment (or
//     one never paid), 1155 this payment cannot be refunded, 1163 the
//     refund period has passed, 1164 more than what remains, 1179 not a
//     captured payment (an authorization is voided instead); RefundMessage
//     says it in zh-TW.
//   - ErrAlreadyRefunded (errors.Is; also an *APIError with 1165): the
//     payment was refunded in full already. After a lost answer this is
//     how a retried full refund learns the first one was made.
//   - ErrOutcomeUnknown (errors.Is): no answer (network error, time-out or
//     the context's deadline, an answer that is not LINE Pay's) or LINE
//     Pay's internal error 9000. The refund may have been made.
//
// LINE Pay has no idempotency key for refunds, so after an unknown outcome
// the caller looks the payment up before asking again:
// PaymentByTransactionID lists its refunds (refundList: refundTransactionId,
// transactionType PAYMENT_REFUND or PARTIAL_REFUND, refundAmount,
// refundTransactionDate) as the Payment Details API does.
//
// # Sandbox
//
// NewSandbox serves, under its BasePath (say /sandbox/linepay):
//
//	POST {base}/v3/payments/request
//	POST {base}/v3/payments/{transactionId}/confirm
//	POST {base}/v3/payments/authorizations/{transactionId}/void
//	POST {base}/v3/payments/preapprovedPay/{regKey}/payment
//	GET  {base}/v3/payments/preapprovedPay/{regKey}/check
//	POST {base}/v3/payments/preapprovedPay/{regKey}/expire
//	POST {base}/v3/payments/{transactionId}/refund
//	GET  {base}/v3/payments?orderId=...&transactionId=...
//
// with the same authentication (a wrong signature or missing header answers
// 1106, an unknown channel 1104), and the pages that stand in for LINE:
//
//	GET  {base}/web/payment/wait?transactionReserveId=R   paymentUrl.web: "open LINE on your phone"
//	GET  {base}/app/payment?transactionReserveId=R        paymentUrl.app: the phone, choose a card
//	POST {base}/app/payment/card                          the card choice
//	GET  {base}/app/payment/confirm?transactionReserveId=R 確認付款方式
//	POST {base}/app/payment/approve                       新增: back to confirmUrl?transactionId=&orderId=
//	POST {base}/web/payment/cancel                        back to cancelUrl (unchanged)
//
// The handler expects the full request path, prefix included: mount it at
// {base}/ without stripping the prefix. Page links are absolute, built from
// the request's Host and the prefix (https when the request came over TLS or
// with X-Forwarded-Proto: https). The API signature covers the API path
// without the prefix, exactly as against the real host.
//
// A request with options.payment.capture=false asks for an authorization
// without capture: Confirm makes the same checks, fails with the same card
// errors and answers the same (with the regKey for PREAPPROVED), but only
// authorizes the amount; nothing is charged. Void then releases it (0000);
// the regKey stays usable for preapproved payments. Void answers 1150 for
// a transaction that is unknown or was never authorized (not yet confirmed,
// cancelled, failed), 1165 for one voided already and 1155 for a captured
// payment, which can only be refunded (LINE Pay documents 1150, 1155 and
// 1165 for Void). Payment Details lists paid, authorized and voided
// transactions, all transactionType PAYMENT, with payStatus CAPTURE,
// AUTHORIZATION or VOIDED_AUTHORIZATION. Authorizations do not expire in
// the sandbox, and there is no Capture API.
//
// Refund refunds a captured payment (status paid, normal or preapproved):
// the whole of what remains without refundAmount, else that part. It
// answers 1150 for a transaction that is unknown or was never paid, 1179
// for an authorization (voided or not), 1165 once nothing remains (so a
// repeated full refund is 1165) and 1164 for a part larger than what
// remains; the payment's card may refuse every refund (see below). Each
// refund is a transaction of its own with a 19-digit id from the payments'
// sequence, recorded in sandbox_linepay_refunds; the payment row keeps the
// total refunded (never above its amount: the refund locks the payment row,
// and a CHECK is the second lock). Payment Details lists a payment's refunds
// under refundList, refundAmount negative as LINE Pay writes it.
//
// # Faults
//
// SandboxConfig.RefundFault, when set, is asked with the transactionId of
// every refund and may make the sandbox not answer it: FaultLostAnswer
// makes and commits the refund, FaultNoAnswer does not; both then hold the
// request until the client gives up or SandboxConfig.FaultHold (default 40
// seconds) passes, and drop the connection without a response. The client
// reports ErrOutcomeUnknown, and Payment Details shows whether the refund
// was made. The hook is for tests; the app's sandbox sets none.
//
// Transactions and regKeys live in PostgreSQL (the sandbox_linepay_* tables),
// so they survive a restart. The tables are the sandbox's own, made by its
// migrations (migrations/, Migrate), not the app's: whoever mounts the
// sandbox calls Migrate first. A requested payment must be approved and
// confirmed within 20 minutes, else Confirm answers 1180.
//
// # Sandbox cards
//
// The phone page offers the credit cards "bound to LINE Pay":
//
//	id                   card                         behaviour
//	cathay-visa-4242     國泰世華 Visa •••• 4242        pays
//	ctbc-master-4444     中國信託 Mastercard •••• 4444  pays
//	taishin-visa-0002    台新 Visa •••• 0002           Confirm fails with 1281 (credit card payment error)
//	esun-jcb-0341        玉山 JCB •••• 0341            Confirm pays and issues a regKey; every preapproved payment fails with 1281
//	fubon-master-1141    台北富邦 Mastercard •••• 1141  Confirm pays and issues a regKey; every preapproved payment fails with 1141 (payment account status error)
//	sinopac-visa-1155    永豐 Visa •••• 1155           pays (Confirm and preapproved payments); every refund fails with 1155 (cannot be refunded)
//
// The ids are the constants Card*, the values of the card radio buttons.
package linepay
