package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 電子發票: the console's page of number books (and their import), the
// MIG messages kept for Turnkey, and the allowances waiting for an admin.

// lowBooks is how few numbers left in the current or next period raise an
// alert: one book.
const lowBooks = 50

// messageNear is how long before its deadline an unwritten message is
// flagged.
const messageNear = 12 * time.Hour

func (s *Server) staffEInvoices(c echo.Context) error {
	p := staffPage(c, "einvoices", "電子發票", "E-invoices")
	if n, err := importNotice(p.Lang, c); err == nil && n != "" {
		p.Notice = n
	}
	if al := c.QueryParam("resent"); al != "" {
		p.Notice = p.Lang.Tf("已重新寄送折讓 %s 的同意連結,舊連結已失效;新連結 72 小時內有效。",
			"A new link to agree to allowance %s was e-mailed; the old one no longer works. The new one works for 72 hours.", al)
	}
	v, err := s.einvoicesView(c, p.Lang)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StaffEInvoices(p, v))
}

// importNotice says what an import did, from the redirect's query.
func importNotice(l views.Lang, c echo.Context) (string, error) {
	q := c.QueryParam("imported")
	if q == "" {
		return "", nil
	}
	var n [4]int
	parts := strings.Split(q, "-")
	if len(parts) != len(n) {
		return "", fmt.Errorf("imported=%q", q)
	}
	for i, s := range parts {
		v, err := strconv.Atoi(s)
		if err != nil {
			return "", err
		}
		n[i] = v
	}
	return l.Tf("已匯入 %d 本(%s 個號碼);%d 本先前已匯入,未變更;%d 張等待號碼的發票已開立。",
		"Imported %d books (%s numbers); %d were there already and left as they were; %d invoices that waited for numbers were issued.",
		n[0], views.Num(n[1]), n[2], n[3]), nil
}

// staffImportBooks imports the platform's number ranges from an uploaded
// or pasted CSV. Any error refuses the whole file: nothing is imported.
func (s *Server) staffImportBooks(c echo.Context) error {
	p := staffPage(c, "einvoices", "電子發票", "E-invoices")
	text := c.FormValue("csv")
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(f, booksLimit))
		f.Close()
		if err != nil {
			return err
		}
		text = string(bytes.TrimPrefix(b, []byte("\ufeff"))) // a spreadsheet's BOM
	}
	var res db.BookImport
	var err error
	switch {
	case strings.TrimSpace(text) == "":
		err = billing.Errorf(billing.EInvalid, "請上傳或貼上發票號碼的 CSV。")
	case !utf8.ValidString(text):
		err = billing.Errorf(billing.EInvalid, "CSV 檔案須為 UTF-8 編碼,未匯入任何號碼。")
	default:
		var ranges []billing.BookRange
		ranges, perr := billing.ParseBooks(strings.NewReader(text))
		if perr != nil {
			err = perr
			p.Error = p.Lang.Err(perr) + p.Lang.T("\n整份檔案未匯入任何號碼。", "\nNothing was imported.")
		} else {
			res, err = s.store.ImportBooks(c.Request().Context(), staffActor(c), ranges)
		}
	}
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		if p.Error == "" {
			p.Error = p.Lang.Err(err)
		}
		v, verr := s.einvoicesView(c, p.Lang)
		if verr != nil {
			return verr
		}
		if c.FormValue("csv") != "" {
			v.Pasted = text
		}
		return render(c, http.StatusUnprocessableEntity, views.StaffEInvoices(p, v))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/staff/einvoices?imported=%d-%d-%d-%d", res.Added, res.Numbers, res.Already, res.Issued))
}

// booksLimit is the largest CSV of numbers taken (far more than a year's).
const booksLimit = 256 << 10

// staffMessageXML is one kept message's body, as written for Turnkey.
func (s *Server) staffMessageXML(c echo.Context) error {
	id, err := strconv.ParseInt(strings.TrimSuffix(c.Param("file"), ".xml"), 10, 64)
	if err != nil || !strings.HasSuffix(c.Param("file"), ".xml") {
		return echo.ErrNotFound
	}
	m, err := s.store.EInvoiceMessage(c.Request().Context(), id)
	if billing.ErrorCode(err) == billing.EInvalid {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`inline; filename="%s-%s.xml"`, m.Type, m.Name))
	return c.Blob(http.StatusOK, "application/xml; charset=utf-8", []byte(m.Body))
}

// einvoicesView reads the page: books, messages, waiting allowances.
func (s *Server) einvoicesView(c echo.Context, l views.Lang) (views.EInvoicesView, error) {
	d, err := s.store.EInvoiceConsolePage(c.Request().Context())
	if err != nil {
		return views.EInvoicesView{}, err
	}
	books, waiting, msgs, als := d.Books, d.Waiting, d.Messages, d.Allowances
	now := s.store.Clock.Now()
	v := views.EInvoicesView{}
	v.Periods, v.Alerts = bookPeriods(l, books, waiting, billing.InvoicePeriodOf(now))
	for _, m := range msgs {
		r := views.MessageRow{ID: m.ID, Type: m.Type, TypeLabel: l.MessageType(m.Type), Name: m.Name, EventAt: m.EventAt, Deadline: m.Deadline}
		if m.WrittenAt != nil {
			r.Written = *m.WrittenAt
		} else if !now.Before(m.Deadline) {
			r.Urgency = views.MessageOverdue
		} else if m.Deadline.Sub(now) <= messageNear {
			r.Urgency = views.MessageNear
		}
		v.Messages = append(v.Messages, r)
	}
	overdue, near := 0, 0
	for _, m := range v.Messages {
		switch m.Urgency {
		case views.MessageOverdue:
			overdue++
		case views.MessageNear:
			near++
		}
	}
	if overdue > 0 {
		v.Alerts = append(v.Alerts, l.Tf("%d 則訊息已超過上傳期限仍未寫出。", "%d messages are past their deadline and not written.", overdue))
	}
	if near > 0 {
		v.Alerts = append(v.Alerts, l.Tf("%d 則訊息將在 12 小時內到期,尚未寫出。", "%d messages are due within 12 hours and not written.", near))
	}
	for _, a := range als {
		r := views.AllowanceRow{Number: a.Number, AccountID: a.AccountID, AccountName: a.AccountName, Invoice: a.Invoice, ChargeID: a.ChargeID,
			RefundID: a.RefundID, Total: a.Total}
		if a.ConsentExpires != nil {
			r.Expires, r.Expired = *a.ConsentExpires, !now.Before(*a.ConsentExpires)
		}
		v.Allowances = append(v.Allowances, r)
	}
	return v, nil
}

// bookPeriods groups books by period, newest first, and says in words
// which of the current and next periods run short and where invoices
// wait for numbers.
func bookPeriods(l views.Lang, books []db.BookSummary, waiting []db.PeriodWaiting, current billing.InvoicePeriod) ([]views.BookPeriod, []string) {
	var ps []views.BookPeriod
	index := map[string]int{}
	add := func(name string) *views.BookPeriod {
		if i, ok := index[name]; ok {
			return &ps[i]
		}
		index[name] = len(ps)
		ps = append(ps, views.BookPeriod{Name: name, Label: periodLabel(l, name)})
		return &ps[len(ps)-1]
	}
	for _, b := range books {
		p := add(b.Period)
		p.Books = append(p.Books, views.BookRow{Track: b.Track, Range: fmt.Sprintf("%s%08d – %s%08d", b.Track, b.First, b.Track, b.Last),
			Size: b.Last - b.First + 1, Used: b.Used(), Left: b.Left()})
		p.Left += b.Left()
	}
	var alerts []string
	for _, want := range []billing.InvoicePeriod{current, current.Next()} {
		name := want.String()
		left := 0
		if i, ok := index[name]; ok {
			left = ps[i].Left
		}
		switch {
		case left == 0:
			alerts = append(alerts, l.Tf("%s(%s)沒有可用的發票號碼,請匯入號碼。", "%s (%s) has no numbers left: import numbers.", periodLabel(l, name), name))
		case left < lowBooks:
			alerts = append(alerts, l.Tf("%s(%s)只剩 %d 個發票號碼,請盡快匯入號碼。", "%s (%s) has only %d numbers left: import more soon.", periodLabel(l, name), name, left))
		}
	}
	for _, w := range waiting {
		alerts = append(alerts, l.Tf("%[2]s(%[3]s)有 %[1]d 張發票等待號碼,匯入該期號碼後即自動開立。", "%d invoices of %s (%s) wait for numbers; they are issued as soon as numbers of that period are imported.",
			w.Waiting, periodLabel(l, w.Period), w.Period))
		if i, ok := index[w.Period]; ok {
			ps[i].Waiting = w.Waiting
			ps[i].Note = l.Tf("%d 張發票等待號碼", "%d invoices waiting for numbers", w.Waiting)
		}
	}
	return ps, alerts
}

// periodLabel names a period (by its platform name) in words.
func periodLabel(l views.Lang, name string) string {
	p, err := billing.ParseInvoicePeriod(name)
	if err != nil {
		return name
	}
	return l.InvoicePeriod(p)
}

// staffResendAllowanceLink e-mails the admin a new link to agree to a
// waiting allowance (the old one stops working), e.g. once it expired.
func (s *Server) staffResendAllowanceLink(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("refund"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	al, err := s.store.ResendAllowanceLink(c.Request().Context(), staffActor(c), id)
	if billing.ErrorCode(err) == billing.EInvalid {
		p := staffPage(c, "einvoices", "電子發票", "E-invoices")
		p.Error = p.Lang.Err(err)
		v, verr := s.einvoicesView(c, p.Lang)
		if verr != nil {
			return verr
		}
		return render(c, http.StatusUnprocessableEntity, views.StaffEInvoices(p, v))
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/einvoices?resent="+url.QueryEscape(al.Number))
}
