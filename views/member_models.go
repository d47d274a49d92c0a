package views

import "time"

// The signed-in user, their roles and the 權限管理 page's view models.

// Role is a user's role in an official account; the values are the
// store's (db.Role).
type Role string

// Roles: 管理員 admin, 操作人員 operator, and the two restricted operators.
const (
	RoleAdmin               Role = "admin"
	RoleOperator            Role = "operator"
	RoleOperatorNoBroadcast Role = "operator_no_broadcast"
	RoleOperatorNoStats     Role = "operator_no_stats"
)

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
	Role        Role
}

// Member is one user's membership as the 權限管理 page lists it.
type Member struct {
	UserID      int64
	Login       string
	DisplayName string
	Role        Role
	Since       time.Time
}

// Invitation is a pending invitation, or the one a link opens. ID is the
// token's hash in hex, safe to show; the token itself is never kept.
type Invitation struct {
	ID          string
	AccountName string
	Role        Role
	CreatorName string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}
