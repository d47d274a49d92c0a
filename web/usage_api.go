package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
)

// usageRequest is the body of POST /api/usage.
type usageRequest struct {
	BatchID  string    `json:"batch_id"`
	Kind     string    `json:"kind"`
	Messages int       `json:"messages"`
	SentAt   time.Time `json:"sent_at"` // RFC 3339
	// AccountID is optional; when given it must be the token's account.
	AccountID string `json:"account_id,omitempty"`
}

// decodeUsageRequest reads the JSON body of POST /api/usage (its first
// value); a field it does not know is an error.
func decodeUsageRequest(body io.Reader) (usageRequest, error) {
	var req usageRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	return req, err
}

// batch is the request as the batch of accountID (the token's account).
func (r usageRequest) batch(accountID string) db.UsageBatch {
	return db.UsageBatch{BatchID: r.BatchID, AccountID: accountID, Kind: billing.MessageKind(r.Kind), Messages: r.Messages, SentAt: r.SentAt}
}

// recordUsage is POST /api/usage: the messaging side reports a batch of
// messages sent, authenticated by the account's API token
// (Authorization: Bearer <token>). It answers 201 with the record (free and
// additional counts), 200 with the first record when the batch was already
// recorded, 401 without a live token, 400 for a malformed batch, 409 for a
// batch id reused with different content and 429 quota_exceeded when a light
// or medium account's monthly free messages are used up (as LINE's
// Messaging API does). The route sits outside the CSRF-protected group: it
// takes no cookies.
func (s *Server) recordUsage(c echo.Context) error {
	ctx := c.Request().Context()
	tok, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	var accountID string
	var err error
	if ok && strings.TrimSpace(tok) != "" {
		accountID, err = s.store.FindAPIToken(ctx, strings.TrimSpace(tok))
	}
	if !ok || accountID == "" {
		if err != nil && billing.ErrorCode(err) != billing.EForbidden {
			return err
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="webstore"`)
		return usageAPIError(c, http.StatusUnauthorized, "unauthorized", "需要有效的 API 權杖(Authorization: Bearer)。")
	}
	req, err := decodeUsageRequest(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10))
	if err != nil {
		return usageAPIError(c, http.StatusBadRequest, string(billing.EInvalid), "要求內容必須是 JSON:batch_id、kind、messages、sent_at(RFC 3339)。")
	}
	if req.AccountID != "" && req.AccountID != accountID {
		return usageAPIError(c, http.StatusForbidden, string(billing.EForbidden), "此 API 權杖不屬於這個帳號。")
	}
	err = billing.CheckSentAt(req.SentAt, s.store.Clock.Now())
	var rec db.UsageRecord
	if err == nil {
		rec, err = s.store.RecordUsage(ctx, db.Actor("api:"+accountID), req.batch(accountID))
	}
	var be *billing.Error
	if errors.As(err, &be) {
		status := httpStatus(be.Code)
		if be.Code == billing.EInvalid {
			status = http.StatusBadRequest // a malformed API request, not a refused form
		}
		msg := be.Detail
		if msg == "" {
			msg = billing.CodeMessage(be.Code, "zh-TW")
		}
		return usageAPIError(c, status, string(be.Code), msg)
	} else if err != nil {
		return err
	}
	if rec.Replayed {
		return c.JSON(http.StatusOK, rec)
	}
	return c.JSON(http.StatusCreated, rec)
}

func usageAPIError(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, map[string]string{"error": code, "message": msg})
}
