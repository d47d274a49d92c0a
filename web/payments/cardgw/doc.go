// Package cardgw is a local credit card gateway sandbox and the client the
// webstore uses with it. Card numbers never reach the merchant app: the
// person types them on the gateway's own page, and the merchant only ever
// handles tokens.
//
// # Flow
//
//  1. The merchant sends the person to the hosted card fields,
//     FieldsURL(base, publicKey, returnURL):
//     GET {base}/fields?key=PUBLIC_KEY&return_url=...
//  2. The person types card number, expiry (MM/YY), CVC and cardholder
//     name. The page checks the Luhn digit and the expiry and re-asks in
//     zh-TW, keeping what was typed except the CVC. On success it redirects
//     to return_url?card_token=tok_... (a one-time token, valid 10 minutes,
//     single use); 取消 redirects to return_url?card_error=cancelled.
//  3. The merchant's server attaches the token with the secret key
//     (Client.AttachCard: POST {base}/api/v1/cards, Authorization: Bearer
//     SECRET_KEY) and keeps the reusable card_... token, brand, last4 and
//     expiry.
//  4. It charges the card (Client.Charge: POST {base}/api/v1/charges) with an
//     Idempotency-Key header: a repeat with the same key answers the first
//     result and never charges twice. A decline is HTTP 402 with
//     {"error":{"code","message"}}, a *DeclineError in the client.
//  5. It refunds a charge (Client.Refund: POST {base}/api/v1/refunds, body
//     {"charge": "ch_...", "amount": N}, amount absent or 0 for all that
//     remains) with an Idempotency-Key header, and gets
//     {"id":"re_...","object":"refund","charge","amount","currency",
//     "status":"succeeded","created"}. The charge is the ch_... id Charge
//     returned, which the store keeps as the payment's reference. A charge
//     is refunded in parts until nothing remains.
//
// The handler expects the full request path, prefix included: mount it at
// {base}/ without stripping the prefix. Tokens, cards, charges and refunds
// live in PostgreSQL (the sandbox_card_* tables), made by the sandbox's own
// migrations (migrations/, Migrate), not the app's: whoever mounts the
// sandbox calls Migrate first.
//
// # Refunds
//
// What a refund answers, and what the client makes of it:
//
//   - 200: refunded. A repeat with the same key answers the first result
//     (the same refund, or the same decline) and refunds nothing more; the
//     same key for another charge or amount is 409 idempotency_key_reused.
//     Keys of refunds and of charges are separate.
//
//   - 402 refund_declined: the issuer refused; a *DeclineError.
//
//   - 400 amount_too_large (more than remains), charge_already_refunded
//     (nothing remains; the client's error also matches
//     ErrAlreadyRefunded), charge_not_refundable (a declined charge), 404
//     charge_not_found: an *APIError; nothing was refunded.
//
//   - no answer, 5xx, 429, or 409 other than idempotency_key_reused: the
//     client's error matches ErrOutcomeUnknown. Repeat with the same key,
//     or look the refund up:
//
//     GET {base}/api/v1/refunds?idempotency_key=...&charge=ch_...
//
//     (either or both; Client.FindRefunds) lists the matching refunds,
//     oldest first, declined ones included with status failed and
//     failure_code.
//
// The sandbox locks the charge row while it checks what remains and writes
// the refund, so concurrent refunds never return more than was charged;
// each charge keeps its refunded total, and a CHECK bounds it by the amount.
//
// # Faults
//
// SandboxConfig.RefundFault, when set, is asked with the charge id of every
// refund and may make the sandbox not answer it: FaultLostAnswer makes and
// commits the refund, FaultNoAnswer does not; both then hold the request
// until the client gives up or SandboxConfig.FaultHold (default 40 seconds)
// passes, and drop the connection without a response. The hook is for
// tests; the app's sandbox sets none.
//
// # Test cards
//
// Any future expiry and any CVC work. Only these numbers are accepted, so
// that no real card number is ever stored:
//
//	4242 4242 4242 4242   Visa        approved
//	5555 5555 5555 4444   Mastercard  approved
//	3530 1113 3330 0000   JCB         approved
//	3782 822463 10005     Amex        approved (4-digit CVC)
//	4000 0000 0000 0002   Visa        declined when attached: card_declined
//	4000 0000 0000 0341   Visa        attaches; every charge declined: insufficient_funds
//	4000 0000 0000 5126   Visa        attaches and charges; every refund declined: refund_declined
//
// A card whose expiry has passed is refused on the page, and with
// expired_card when it is attached or charged after its month ends.
package cardgw
