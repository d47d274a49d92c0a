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
//
// The handler expects the full request path, prefix included: mount it at
// {base}/ without stripping the prefix. Tokens, cards and charges live in
// PostgreSQL (the sandbox_card_* tables).
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
//
// A card whose expiry has passed is refused on the page, and with
// expired_card when it is attached or charged after its month ends.
package cardgw
