package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 稽核紀錄: the console's audit log.

func (s *Server) staffAudit(c echo.Context) error {
	p := staffPage(c, "audit", "稽核紀錄", "Audit log")
	v := views.AuditView{Filter: [5]string{c.QueryParam("account"), c.QueryParam("actor"), c.QueryParam("kind"), c.QueryParam("from"), c.QueryParam("to")}}
	f := db.AuditFilter{AccountID: strings.TrimSpace(v.Filter[0]), Actor: strings.TrimSpace(v.Filter[1]), Kind: strings.TrimSpace(v.Filter[2])}
	status := http.StatusOK
	var err error
	if v.Filter[3] != "" {
		if f.From, err = parseTaipei(v.Filter[3], billing.Taipei); err != nil {
			p.Error, status = p.Lang.Err(err), http.StatusUnprocessableEntity
		}
	}
	if v.Filter[4] != "" {
		if f.To, err = parseTaipei(v.Filter[4], billing.Taipei); err != nil {
			p.Error, status = p.Lang.Err(err), http.StatusUnprocessableEntity
		}
	}
	if p.Error == "" {
		es, err := s.store.FindAudit(c.Request().Context(), f)
		if err != nil {
			return err
		}
		cat, err := s.store.Catalog(c.Request().Context())
		if err != nil {
			return err
		}
		v.Entries = auditRows(p.Lang, cat, es)
	}
	return render(c, status, views.StaffAudit(p, v))
}
