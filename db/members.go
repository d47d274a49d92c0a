package db

import (
	"context"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// Members and invitations of an official account (權限管理). An account
// always keeps at least one admin: every change that could take the last
// one away locks the account's membership rows first, then counts.

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Member is one user's membership as the 權限管理 page lists it. The json
// names are those of the page statement's rows (FindMembersPage).
type Member struct {
	UserID      int64        `db:"user_id" json:"user_id"`
	Login       string       `db:"login" json:"login"`
	DisplayName string       `db:"display_name" json:"display_name"`
	Role        billing.Role `db:"role" json:"role"`
	Since       time.Time    `db:"created_at" json:"created_at"`
}

// Invitation is an invitation to join an account. The link's token is
// never stored, only its hash; ID is that hash in hex, safe to show.
type Invitation struct {
	ID          string       `db:"-" json:"id"`
	AccountID   string       `db:"account_id" json:"account_id"`
	AccountName string       `db:"account_name" json:"account_name"`
	Role        billing.Role `db:"role" json:"role"`
	CreatedBy   int64        `db:"created_by" json:"created_by"`
	CreatorName string       `db:"creator_name" json:"creator_name"`
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	ExpiresAt   time.Time    `db:"expires_at" json:"expires_at"`
	UsedBy      *int64       `db:"used_by" json:"used_by"`
	UsedAt      *time.Time   `db:"used_at" json:"used_at"`
}

// FindMembers lists an account's members, admins first, then by name.
func (s *Store) FindMembers(ctx context.Context, accountID string) ([]Member, error) {
	ms, _, err := s.FindMembersPage(ctx, accountID, false)
	return ms, err
}

// FindMembersPage reads the 權限管理 page in one round trip: the members,
// admins first, then by name, and, when withInvitations, the pending
// invitations (not used, not expired), newest first.
func (s *Store) FindMembersPage(ctx context.Context, accountID string, withInvitations bool) ([]Member, []Invitation, error) {
	var row struct {
		Members     jsonList[Member]     `db:"members"`
		Invitations jsonList[Invitation] `db:"invitations"`
	}
	err := s.getPrepared(ctx, &row, `SELECT
		(SELECT json_agg(x ORDER BY x.role <> 'admin', x.display_name, x.login) FROM (
			SELECT m.user_id, u.login, u.display_name, m.role, m.created_at
			FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1) x) AS members,
		CASE WHEN $3 THEN (SELECT json_agg(x ORDER BY x.created_at DESC) FROM (
			SELECT encode(i.token_hash, 'hex') AS id, i.account_id, a.name AS account_name, i.role, i.created_by,
			       u.display_name AS creator_name, i.created_at, i.expires_at, i.used_by, i.used_at
			FROM invitations i JOIN accounts a ON a.id = i.account_id JOIN users u ON u.id = i.created_by
			WHERE i.account_id = $1 AND i.used_at IS NULL AND i.expires_at > $2) x) END AS invitations`,
		accountID, s.Clock.Now(), withInvitations)
	if err != nil {
		return nil, nil, err
	}
	// The rows decode into the store's own types; their times are given
	// in UTC, as the statements that scan them give them.
	ms := []Member(row.Members)
	for i := range ms {
		ms[i].Since = ms[i].Since.UTC()
	}
	invs := []Invitation(row.Invitations)
	for i := range invs {
		invs[i].CreatedAt, invs[i].ExpiresAt = invs[i].CreatedAt.UTC(), invs[i].ExpiresAt.UTC()
	}
	return ms, invs, nil
}

// FindInvitations lists an account's pending invitations: not used, not
// expired, newest first.
func (s *Store) FindInvitations(ctx context.Context, accountID string) ([]Invitation, error) {
	_, invs, err := s.FindMembersPage(ctx, accountID, true)
	return invs, err
}

// FindInvitation returns the invitation a link's token opens, for the
// acceptance page. It returns EInvitationInvalid for an unknown or revoked
// token, EInvitationUsed once it was accepted and EInvitationExpired after
// InvitationTTL.
func (s *Store) FindInvitation(ctx context.Context, token string) (Invitation, error) {
	r, err := findInvitation(ctx, s.DB, hashToken(token), false)
	if err != nil {
		return Invitation{}, err
	}
	if err := r.usable(s.Clock.Now()); err != nil {
		return Invitation{}, err
	}
	return r.invitation(), nil
}

// CreateInvitation makes a one-time link inviting someone into accountID
// with role, and returns its token; only the token's hash is stored, and it
// works for InvitationTTL. The inviter must be an admin of the account
// (EForbidden otherwise), so an operator can never invite anyone, least of
// all an admin.
func (s *Store) CreateInvitation(ctx context.Context, actor Actor, accountID string, role billing.Role, byUserID int64) (string, Invitation, error) {
	return s.invite(ctx, actor, accountID, role, byUserID, nil)
}

// InviteByMail is CreateInvitation that also e-mails the link (linkBase
// followed by the token) to the person invited, through the outbox in the
// same transaction. Returns EInvalid for an address that is not one.
func (s *Store) InviteByMail(ctx context.Context, actor Actor, accountID string, role billing.Role, byUserID int64, to, linkBase string) (string, Invitation, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil || addr.Address != strings.TrimSpace(to) {
		return "", Invitation{}, billing.Errorf(billing.EInvalid, "電子郵件地址格式不正確。")
	}
	return s.invite(ctx, actor, accountID, role, byUserID, func(tx *sqlx.Tx, now time.Time, tok string, inv Invitation) error {
		return queueMailTo(ctx, tx, now, MailInvitation, accountID, addr.Address, "invitation:"+inv.ID, byUserID,
			MailParams{Link: linkBase + tok, Role: string(role), Until: inv.ExpiresAt})
	})
}

func (s *Store) invite(ctx context.Context, actor Actor, accountID string, role billing.Role, byUserID int64,
	then func(tx *sqlx.Tx, now time.Time, tok string, inv Invitation) error) (string, Invitation, error) {
	if !role.Valid() {
		return "", Invitation{}, billing.Errorf(billing.EInvalid, "請選擇權限。")
	}
	tok := NewToken()
	var inv Invitation
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var by billing.Role
		// FOR SHARE waits for a demotion in flight (which locks the rows
		// FOR UPDATE and cancels the demoted admin's invitations).
		err := tx.GetContext(ctx, &by, `SELECT role FROM memberships WHERE account_id=$1 AND user_id=$2 FOR SHARE`, accountID, byUserID)
		if isNoRows(err) || (err == nil && by != billing.RoleAdmin) {
			return billing.Errorf(billing.EForbidden, "")
		} else if err != nil {
			return err
		}
		h := hashToken(tok)
		if _, err := tx.ExecContext(ctx, `INSERT INTO invitations (token_hash, account_id, role, created_by, created_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6)`, h, accountID, role, byUserID, now, now.Add(InvitationTTL)); err != nil {
			return err
		}
		r, err := findInvitation(ctx, tx, h, false)
		if err != nil {
			return err
		}
		inv = r.invitation()
		if then != nil {
			if err := then(tx, now, tok, inv); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, actor, accountID, "invitation.created", nil,
			map[string]any{"id": inv.ID, "role": role, "created_by": byUserID, "expires_at": inv.ExpiresAt})
	})
	if err != nil {
		return "", Invitation{}, err
	}
	return tok, inv, nil
}

// AcceptInvitation makes userID a member of the invitation's account with
// its role, and uses the invitation up. It returns EInvitationInvalid,
// EInvitationUsed or EInvitationExpired as FindInvitation does.
//
// A user who is already a member keeps their current role (an admin
// changes roles on the 權限管理 page, not through a link) and the
// invitation stays unused, so the person it was meant for can still use
// it; joined is then false.
func (s *Store) AcceptInvitation(ctx context.Context, actor Actor, token string, userID int64) (m Membership, joined bool, err error) {
	var accountID string
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		r, err := lockUsableInvitation(ctx, tx, now, token)
		if err != nil {
			return err
		}
		accountID = r.AccountID
		joined, err = acceptInvitation(ctx, tx, now, actor, r, userID)
		return err
	})
	if err != nil {
		return Membership{}, false, err
	}
	m, err = s.FindMembership(ctx, userID, accountID)
	return m, joined, err
}

// lockUsableInvitation loads and locks the invitation a link's token opens,
// refusing it as FindInvitation does: under the lock, two people using one
// link at once cannot both join.
func lockUsableInvitation(ctx context.Context, tx *sqlx.Tx, now time.Time, token string) (invitationRow, error) {
	r, err := findInvitation(ctx, tx, hashToken(token), true)
	if err != nil {
		return r, err
	}
	return r, r.usable(now)
}

// acceptInvitation makes userID a member through the locked, usable
// invitation r and uses it up; joined is false (and r stays unused) when
// the user was a member already.
func acceptInvitation(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, r invitationRow, userID int64) (joined bool, err error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO memberships (account_id, user_id, role, created_at)
		VALUES ($1,$2,$3,$4) ON CONFLICT (account_id, user_id) DO NOTHING`, r.AccountID, userID, r.Role, now)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET used_by=$2, used_at=$3 WHERE token_hash=$1`, r.Hash, userID, now); err != nil {
		return false, err
	}
	return true, audit(ctx, tx, now, actor, r.AccountID, "member.joined", nil,
		map[string]any{"user_id": userID, "role": r.Role, "invitation": hex.EncodeToString(r.Hash), "invited_by": r.CreatedBy})
}

// RevokeInvitation cancels a pending invitation of accountID by its ID;
// EInvitationInvalid if there is no such pending invitation. The caller
// checks that the actor is an admin of the account.
func (s *Store) RevokeInvitation(ctx context.Context, actor Actor, accountID, id string) error {
	h, err := hex.DecodeString(id)
	if err != nil || len(h) == 0 {
		return billing.Errorf(billing.EInvitationInvalid, "")
	}
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var role billing.Role
		err := tx.GetContext(ctx, &role, `DELETE FROM invitations WHERE token_hash=$1 AND account_id=$2 AND used_at IS NULL
			RETURNING role`, h, accountID)
		if isNoRows(err) {
			return billing.Errorf(billing.EInvitationInvalid, "")
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "invitation.revoked", map[string]any{"id": id, "role": role}, nil)
	})
}

// ChangeRole sets a member's role. Demoting the account's last admin is
// refused with ELastAdmin; ENotAMember if userID is not a member. A former
// admin's pending invitations are cancelled with the demotion, so a link
// made while they were admin cannot outlive their rights. The caller checks
// that the actor is an admin of the account.
func (s *Store) ChangeRole(ctx context.Context, actor Actor, accountID string, userID int64, role billing.Role) error {
	if !role.Valid() {
		return billing.Errorf(billing.EInvalid, "請選擇權限。")
	}
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		target, admins, err := lockMembers(ctx, tx, accountID, userID)
		if err != nil {
			return err
		}
		if target.Role == role {
			return nil
		}
		if target.Role == billing.RoleAdmin && admins == 1 {
			return billing.Errorf(billing.ELastAdmin, "")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET role=$3 WHERE account_id=$1 AND user_id=$2`, accountID, userID, role); err != nil {
			return err
		}
		cancelled, err := cancelInvitationsBy(ctx, tx, accountID, userID, target.Role)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "member.role_changed",
			map[string]any{"user_id": userID, "login": target.Login, "role": target.Role},
			map[string]any{"user_id": userID, "login": target.Login, "role": role, "invitations_cancelled": cancelled})
	})
}

// RemoveMember takes a user out of an account. Removing the account's last
// admin is refused with ELastAdmin; ENotAMember if userID is not a member.
// An admin's pending invitations go with them. The caller checks that the
// actor is an admin of the account.
func (s *Store) RemoveMember(ctx context.Context, actor Actor, accountID string, userID int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		target, admins, err := lockMembers(ctx, tx, accountID, userID)
		if err != nil {
			return err
		}
		if target.Role == billing.RoleAdmin && admins == 1 {
			return billing.Errorf(billing.ELastAdmin, "")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE account_id=$1 AND user_id=$2`, accountID, userID); err != nil {
			return err
		}
		cancelled, err := cancelInvitationsBy(ctx, tx, accountID, userID, target.Role)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "member.removed",
			map[string]any{"user_id": userID, "login": target.Login, "role": target.Role, "since": target.Since},
			map[string]any{"invitations_cancelled": cancelled})
	})
}

// lockMembers locks every membership row of the account, in one order so
// two changes cannot deadlock, and returns the target member and how many
// admins the account has. Under the locks the count cannot change until the
// transaction ends, so two concurrent demotions of the only two admins see
// each other: the second one counts one admin and is refused.
func lockMembers(ctx context.Context, tx *sqlx.Tx, accountID string, userID int64) (Member, int, error) {
	var ms []Member
	err := tx.SelectContext(ctx, &ms, `SELECT m.user_id, u.login, u.display_name, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id=$1
		ORDER BY m.user_id FOR UPDATE OF m`, accountID)
	if err != nil {
		return Member{}, 0, err
	}
	var target *Member
	admins := 0
	for i, m := range ms {
		if m.Role == billing.RoleAdmin {
			admins++
		}
		if m.UserID == userID {
			target = &ms[i]
		}
	}
	if target == nil {
		return Member{}, 0, billing.Errorf(billing.ENotAMember, "")
	}
	return *target, admins, nil
}

// cancelInvitationsBy deletes the pending invitations a user made in an
// account once they are no longer its admin, and returns how many.
func cancelInvitationsBy(ctx context.Context, tx *sqlx.Tx, accountID string, userID int64, was billing.Role) (int64, error) {
	if was != billing.RoleAdmin {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE account_id=$1 AND created_by=$2 AND used_at IS NULL`, accountID, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type invitationRow struct {
	Hash []byte `db:"token_hash"`
	Invitation
}

const invitationSelect = `SELECT i.token_hash, i.account_id, a.name AS account_name, i.role, i.created_by,
		u.display_name AS creator_name, i.created_at, i.expires_at, i.used_by, i.used_at
	FROM invitations i JOIN accounts a ON a.id = i.account_id JOIN users u ON u.id = i.created_by`

// findInvitation loads an invitation by its token's hash, locking it when
// it is about to be used; EInvitationInvalid when there is none.
func findInvitation(ctx context.Context, q sqlx.QueryerContext, h []byte, lock bool) (invitationRow, error) {
	query := invitationSelect + ` WHERE i.token_hash=$1`
	if lock {
		query += ` FOR UPDATE OF i`
	}
	var r invitationRow
	err := sqlx.GetContext(ctx, q, &r, query, h)
	if isNoRows(err) {
		return r, billing.Errorf(billing.EInvitationInvalid, "")
	}
	return r, err
}

// usable refuses an invitation already used or past its expiry.
func (r invitationRow) usable(now time.Time) error {
	if r.UsedAt != nil {
		return billing.Errorf(billing.EInvitationUsed, "")
	}
	if !now.Before(r.ExpiresAt) {
		return billing.Errorf(billing.EInvitationExpired, "")
	}
	return nil
}

func (r invitationRow) invitation() Invitation {
	inv := r.Invitation
	inv.ID = hex.EncodeToString(r.Hash)
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	return inv
}
