package web

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/sim"
	"webstore/views"
)

// 情境模擬: the console's scenario simulator page and its JSON API
// (POST /staff/api/simulate), both running the simulator `webstore
// simulate` runs.

// scenarioSamples are the public scenario files offered on the simulator
// page, read from the testdata folder when the server runs from the repo.
func scenarioSamples() [][2]string {
	var out [][2]string
	for _, dir := range []string{"testdata/scenarios", "../testdata/scenarios"} {
		fsys := os.DirFS(dir)
		names, err := fs.Glob(fsys, "*.json")
		if err != nil || len(names) == 0 {
			continue
		}
		for _, n := range names {
			if b, err := fs.ReadFile(fsys, n); err == nil {
				out = append(out, [2]string{n, string(b)})
			}
		}
		return out
	}
	return out
}

func (s *Server) staffSimulatePage(c echo.Context) error {
	p := staffPage(c, "simulate", "情境模擬", "Scenarios")
	return render(c, http.StatusOK, views.StaffSimulate(p, views.SimulateView{Samples: scenarioSamples()}))
}

func (s *Server) staffSimulate(c echo.Context) error {
	p := staffPage(c, "simulate", "情境模擬", "Scenarios")
	v := views.SimulateView{Samples: scenarioSamples(), Input: c.FormValue("scenario")}
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return err
		}
		v.Input = string(b)
	}
	status := http.StatusOK
	if strings.TrimSpace(v.Input) == "" {
		v.Err, status = p.Lang.T("請貼上、上傳或建立一個情境。", "Paste, upload or build a scenario."), http.StatusUnprocessableEntity
	} else if out, err := s.simulate(c.Request().Context(), []byte(v.Input)); err != nil {
		v.Err, status = simError(p.Lang, err), http.StatusUnprocessableEntity
		if billing.ErrorCode(err) == "" && !isInputError(err) {
			slog.Error("simulate", "err", err)
			status = http.StatusInternalServerError
		}
	} else {
		v.Output = simOutput(out)
		if v.Output.Catalog, err = s.store.Catalog(c.Request().Context()); err != nil {
			return err
		}
	}
	return render(c, status, views.StaffSimulate(p, v))
}

// simulate parses and runs a scenario exactly as `webstore simulate` does.
func (s *Server) simulate(ctx context.Context, data []byte) (sim.Output, error) {
	sc, err := sim.ParseScenario(data)
	if err != nil {
		return sim.Output{}, err
	}
	if s.sim == nil {
		return sim.Output{}, billing.Errorf(billing.EInvalid, "此伺服器未設定模擬用的資料庫")
	}
	return s.sim.Simulate(ctx, sc)
}

func isInputError(err error) bool {
	var ie *sim.InputError
	return errors.As(err, &ie)
}

func simError(l views.Lang, err error) string {
	var ie *sim.InputError
	if errors.As(err, &ie) {
		return l.Tf("情境格式錯誤:%s:%s", "Malformed scenario: %s: %s", ie.Field, ie.Msg)
	}
	if billing.ErrorCode(err) != "" {
		return l.Err(err)
	}
	return l.T("模擬失敗,請稍後再試。", "The simulation failed; please try again.")
}

// apiSimulate is POST /staff/api/simulate: the scenario JSON in, the
// simulator's JSON out (as the CLI prints it). It authenticates with a
// staff API token (Authorization: Bearer) or a staff session cookie; with
// the cookie the body must be JSON (a cross-site form cannot send that),
// which stands in for the CSRF token. 401 without either, 404 for a
// brand user, 400 for a malformed scenario (naming the field).
func (s *Server) apiSimulate(c echo.Context) error {
	ctx := c.Request().Context()
	req := c.Request()
	if tok, ok := strings.CutPrefix(req.Header.Get(echo.HeaderAuthorization), "Bearer "); ok {
		if _, err := s.store.FindStaffToken(ctx, strings.TrimSpace(tok)); err != nil {
			if billing.ErrorCode(err) != billing.EForbidden {
				return err
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="webstore-staff"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "API 權杖無效或已撤銷。"})
		}
	} else {
		ck, err := c.Cookie(cookieSession)
		if err != nil || ck.Value == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="webstore-staff"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "需要後台登入或 API 權杖(Authorization: Bearer)。"})
		}
		sess, err := s.store.FindSession(ctx, ck.Value)
		if err != nil || !sess.User.IsStaff {
			return echo.ErrNotFound
		}
		if !isJSON(req.Header.Get(echo.HeaderContentType)) {
			return c.JSON(http.StatusUnsupportedMediaType, map[string]string{"error": string(billing.EInvalid), "message": "要求內容必須是 application/json。"})
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, 1<<20))
	if err != nil {
		return c.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": string(billing.EInvalid), "message": "情境檔超過 1 MB。"})
	}
	out, err := s.simulate(ctx, body)
	var ie *sim.InputError
	if errors.As(err, &ie) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": string(billing.EInvalid), "field": ie.Field, "message": ie.Msg})
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// isJSON reports whether a Content-Type is exactly application/json, with
// parameters (charset) or without: not application/jsonx, not a prefix.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == echo.MIMEApplicationJSON
}
