package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 權限管理: an account's members, their roles and invitation links. The
// store keeps the rules (only admins invite, the last admin stays); the
// handlers bind, delegate and answer.

func (s *Server) members(c echo.Context) error {
	return s.renderMembers(c, http.StatusOK, views.MembersView{}, "")
}

// renderMembers draws the 權限管理 page around v (an invitation link just
// made, a removal to confirm) with an optional error.
func (s *Server) renderMembers(c echo.Context, status int, v views.MembersView, errMsg string) error {
	ctx := c.Request().Context()
	p := page(c, lang(c).T("權限管理", "Members and roles"))
	p.Error = errMsg
	// After a POST the page is drawn at the action's URL; the language
	// switch comes back to the page itself.
	p.Path = pathFor(c, "/members")
	ms, invs, err := s.store.FindMembersPage(ctx, member(c).AccountID, p.IsAdmin())
	if err != nil {
		return err
	}
	v.Members, v.Invitations = memberViews(ms), invitationViews(invs)
	v.Self = session(c).User.ID
	return render(c, status, views.Members(p, v))
}

// refused re-renders the 權限管理 page with a refusal's sentence; any other
// error goes to the error handler.
func (s *Server) refused(c echo.Context, err error) error {
	if billing.ErrorCode(err) == "" || billing.ErrorCode(err) == billing.EForbidden {
		return err
	}
	return s.renderMembers(c, http.StatusUnprocessableEntity, views.MembersView{}, lang(c).Err(err))
}

// invite makes an invitation link and shows it once, on the page itself
// rather than through a redirect, so the token never sits in a URL of this
// site's history.
func (s *Server) invite(c echo.Context) error {
	role := billing.Role(c.FormValue("role"))
	ctx, by := c.Request().Context(), session(c).User.ID
	var tok string
	var err error
	to := strings.TrimSpace(c.FormValue("email"))
	if to == "" {
		tok, _, err = s.store.CreateInvitation(ctx, actor(c), member(c).AccountID, role, by)
	} else {
		tok, _, err = s.store.InviteByMail(ctx, actor(c), member(c).AccountID, role, by, to, s.absURL("/invite/"))
	}
	if err != nil {
		return s.refused(c, err)
	}
	link := s.absURL("/invite/" + tok)
	return s.renderMembers(c, http.StatusOK, views.MembersView{InviteLink: link, InviteRole: role, InviteMailed: to}, "")
}

func (s *Server) revokeInvitation(c echo.Context) error {
	if err := s.store.RevokeInvitation(c.Request().Context(), actor(c), member(c).AccountID, c.Param("id")); err != nil {
		return s.refused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/members"), "invitation-revoked"))
}

// memberID is the :user path parameter, a user id.
func memberID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

func (s *Server) changeRole(c echo.Context) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	if err := s.store.ChangeRole(c.Request().Context(), actor(c), member(c).AccountID, id, billing.Role(c.FormValue("role"))); err != nil {
		return s.refused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/members"), "role-changed"))
}

// removeMember takes two steps without script: the first POST shows the
// confirmation on the page, the second (confirm=yes) removes.
func (s *Server) removeMember(c echo.Context) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if c.FormValue("confirm") != "yes" {
		ms, err := s.store.FindMembers(ctx, member(c).AccountID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.UserID == id {
				confirm := memberView(m)
				return s.renderMembers(c, http.StatusOK, views.MembersView{Confirm: &confirm}, "")
			}
		}
		return s.refused(c, billing.Errorf(billing.ENotAMember, ""))
	}
	if err := s.store.RemoveMember(ctx, actor(c), member(c).AccountID, id); err != nil {
		return s.refused(c, err)
	}
	if id == session(c).User.ID {
		// Removed themselves: this account's pages are closed to them now.
		return c.Redirect(http.StatusSeeOther, "/accounts?pick=1")
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/members"), "member-removed"))
}

// invitation is the page an invitation link opens. To someone signed in it
// offers to join; to anyone else it is the sign-in page of the invitation:
// which account, who sent it, and the ways to sign in (LINE, which joins
// at once, or a login and password, which comes back here).
func (s *Server) invitation(c echo.Context) error {
	return s.renderInvitation(c, http.StatusOK, c.Param("token"), "")
}

// renderInvitation draws the invitation page for token, with an optional
// error above it (a refused LINE link).
func (s *Server) renderInvitation(c echo.Context, status int, tok, errMsg string) error {
	ctx := c.Request().Context()
	inv, err := s.store.FindInvitation(ctx, tok)
	if err != nil {
		return s.invitationRefused(c, err)
	}
	v := views.InviteView{Inv: invitationView(inv), Token: tok, Valid: true, LineLogin: s.cfg.LineLogin != nil}
	if sess, ok := c.Get(ctxSession).(db.Session); ok && v.LineLogin {
		if v.LineLinked, err = s.store.HasLineLogin(ctx, sess.User.ID); err != nil {
			return err
		}
	}
	p := page(c, lang(c).T("加入官方帳號", "Join an official account"))
	p.Error = errMsg
	return render(c, status, views.Invite(p, v))
}

// acceptInvitation joins the account and lands on its 權限管理 page in the
// desktop manager, where invitations are made.
func (s *Server) acceptInvitation(c echo.Context) error {
	m, joined, err := s.store.AcceptInvitation(c.Request().Context(), actor(c), c.Param("token"), session(c).User.ID)
	if err != nil {
		return s.invitationRefused(c, err)
	}
	notice := "joined"
	if !joined {
		notice = "already-member"
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/"+surfaceDesktop+"/"+url.PathEscape(m.AccountID)+"/members", notice))
}

// invitationRefused shows why a link cannot be used: 404 for a link that
// never was or was cancelled, 410 for one used or expired.
func (s *Server) invitationRefused(c echo.Context, err error) error {
	status := http.StatusNotFound
	switch billing.ErrorCode(err) {
	case billing.EInvitationInvalid:
	case billing.EInvitationUsed, billing.EInvitationExpired:
		status = http.StatusGone
	default:
		return err
	}
	p := page(c, lang(c).T("加入官方帳號", "Join an official account"))
	p.Error = p.Lang.Err(err)
	return render(c, status, views.Invite(p, views.InviteView{}))
}
