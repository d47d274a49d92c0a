package billing

// Role is a user's role in an official account.
type Role string

// Roles: 管理員 admin, 操作人員 operator, and the two restricted operators.
const (
	RoleAdmin               Role = "admin"
	RoleOperator            Role = "operator"
	RoleOperatorNoBroadcast Role = "operator_no_broadcast"
	RoleOperatorNoStats     Role = "operator_no_stats"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleOperator || r == RoleOperatorNoBroadcast || r == RoleOperatorNoStats
}
