package views

import (
	"time"
)

// API 權杖: the staff API tokens page.

// TokensView is the API tokens page; New is a just-made token, shown once.
type TokensView struct {
	Tokens []TokenRow
	New    string
}

// TokenRow is a staff API token as listed (never the token itself).
type TokenRow struct {
	ID, Label, Login string
	CreatedAt        time.Time
	RevokedAt        time.Time // zero: live
}
