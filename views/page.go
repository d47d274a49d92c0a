package views

import (
	"webstore/db"
)

// Page is what every page's layout needs.
type Page struct {
	Lang  Lang
	Title string
	CSRF  string
	// Path is the current path, for the language switch to come back to.
	Path string
	User *db.User
	// Account is the official account the page is about, with the user's
	// role in it; nil outside an account.
	Account *db.Membership
	// Desktop is the desktop manager's surface (/m/), else the phone
	// webstore's (/a/).
	Desktop bool
	// Notice and Error are one-line messages at the top of the page.
	Notice string
	Error  string
}

// IsAdmin reports whether the user may change the account's billing.
func (p Page) IsAdmin() bool { return p.Account != nil && p.Account.Role == db.RoleAdmin }

// A returns the URL of an account page on the page's surface:
// A("/plan") → /a/bear/plan on the phone, /m/bear/plan on the desktop.
func (p Page) A(path string) string {
	if p.Account == nil {
		return path
	}
	if p.Desktop {
		return "/m/" + p.Account.AccountID + path
	}
	return "/a/" + p.Account.AccountID + path
}
