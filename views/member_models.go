package views

import (
	"time"

	"webstore/billing"
)

// The signed-in user, their roles and the 權限管理 page's view models.

// User is the signed-in person.
type User struct {
	ID          int64
	Login       string
	DisplayName string
}

// Membership is a user's role in one account.
type Membership struct {
	AccountID   string
	AccountName string
	Region      string
	Role        billing.Role
}

// Member is one user's membership as the 權限管理 page lists it.
type Member struct {
	UserID      int64
	Login       string
	DisplayName string
	Role        billing.Role
	Since       time.Time
}

// Invitation is a pending invitation, or the one a link opens. ID is the
// token's hash in hex, safe to show; the token itself is never kept.
type Invitation struct {
	ID          string
	AccountName string
	Role        billing.Role
	CreatorName string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}
