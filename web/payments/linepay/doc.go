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
// Transactions and regKeys live in PostgreSQL (the sandbox_linepay_* tables),
// so they survive a restart. A requested payment must be approved and
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
//
// The ids are the constants Card*, the values of the card radio buttons.
package linepay
