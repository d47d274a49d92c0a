package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// countBooks is how many number books the store holds.
func countBooks(t *testing.T, a app) int {
	t.Helper()
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM einvoice_books`); err != nil {
		t.Fatal(err)
	}
	return n
}

// Staff import the platform's numbers on 電子發票: pasted or uploaded, a
// good file lists its books with what is left; a bad one names its lines
// and imports nothing, the pasted text kept for fixing.
func TestStaffImportsNumberBooks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	staff := httpSignIn(t, a.URL, "staff", nil)
	page := open(t, staff, a.URL+"/staff/einvoices")
	if page.Status != http.StatusOK || !page.has("book-11512-AB") || !page.has("book-11602-AB") {
		t.Fatalf("einvoices page %d, want the seeded books of 11512 and 11602:\n%s", page.Status, page.text())
	}
	if page.has("einvoice-alerts") {
		t.Errorf("alerts with 500 numbers in each period: %s", page.testID("einvoice-alerts"))
	}
	before := countBooks(t, a)

	bad := "year_month,track,begin,end\n11602,EF,00000100,00000149\n11602,EF,00000101,00000149\n"
	got := page.submit(t, staff, `[data-testid="books-form"]`, url.Values{"csv": {bad}})
	if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.testID("error"), "第 3 行") || !strings.Contains(got.testID("error"), "整份檔案未匯入任何號碼") {
		t.Fatalf("bad CSV: %d, error %q", got.Status, got.testID("error"))
	}
	if got.has("book-11602-EF") || countBooks(t, a) != before {
		t.Errorf("a refused file imported books")
	}
	if got.testID("books-csv") != strings.TrimSpace(bad) && !strings.Contains(got.Doc.Find(`[data-testid="books-csv"]`).Text(), "00000101") {
		t.Errorf("the pasted text is not shown again: %q", got.testID("books-csv"))
	}

	good := "year_month,track,begin,end\n11602,EF,00000100,00000149\n"
	got = follow(t, staff, page.submit(t, staff, `[data-testid="books-form"]`, url.Values{"csv": {good}}))
	if !strings.Contains(got.testID("notice"), "已匯入 1 本(50 個號碼)") || !got.has("book-11602-EF") {
		t.Fatalf("pasted import: notice %q\n%s", got.testID("notice"), got.text())
	}
	if row := got.Doc.Find(`[data-testid="book-11602-EF"]`).Text(); !strings.Contains(row, "EF00000100 – EF00000149") {
		t.Errorf("book row %q", strings.Join(strings.Fields(row), " "))
	}

	// The same range again, uploaded as a file with a BOM: already there.
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", staff.csrf)
	fw, _ := w.CreateFormFile("file", "books.csv")
	fw.Write([]byte("\ufeff" + good + "11602,GH,00000000,00000049\n"))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/staff/einvoices/books", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept-Language", "zh-TW")
	got = follow(t, staff, send(t, staff, req))
	if !strings.Contains(got.testID("notice"), "已匯入 1 本(50 個號碼);1 本先前已匯入") || !got.has("book-11602-GH") {
		t.Fatalf("uploaded import: notice %q\n%s", got.testID("notice"), got.text())
	}
	if n := countBooks(t, a); n != before+2 {
		t.Errorf("%d books, want %d", n, before+2)
	}
}

// With the current period's numbers used up, the page says so in red, and
// counts the invoices waiting for numbers; importing issues them.
func TestStaffEInvoicesAlertsWhenNumbersRunOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := a.Store.DB.Exec(`UPDATE einvoice_books SET next_no = last_no - 9 WHERE period = '11512'`); err != nil {
		t.Fatal(err)
	}
	staff := httpSignIn(t, a.URL, "staff", nil)
	page := open(t, staff, a.URL+"/staff/einvoices")
	if alert := page.testID("einvoice-alerts"); !strings.Contains(alert, "115年11–12月(11512)只剩 10 個發票號碼") {
		t.Errorf("low numbers alert %q", alert)
	}
	if _, err := a.Store.DB.Exec(`UPDATE einvoice_books SET next_no = last_no + 1 WHERE period = '11512'`); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "alert-1")
	if ch.Invoice != "" {
		t.Fatalf("charge got number %s with none left", ch.Invoice)
	}
	page = open(t, staff, a.URL+"/staff/einvoices")
	alert := page.testID("einvoice-alerts")
	if !strings.Contains(alert, "115年11–12月(11512)沒有可用的發票號碼") || !strings.Contains(alert, "有 1 張發票等待號碼") {
		t.Errorf("alerts %q", alert)
	}
	got := follow(t, staff, page.submit(t, staff, `[data-testid="books-form"]`, url.Values{"csv": {"year_month,track,begin,end\n11512,ZZ,00000000,00000049\n"}}))
	if !strings.Contains(got.testID("notice"), "1 張等待號碼的發票已開立") || got.has("einvoice-alerts") && strings.Contains(got.testID("einvoice-alerts"), "等待號碼") {
		t.Errorf("after import: notice %q, alerts %q", got.testID("notice"), got.testID("einvoice-alerts"))
	}
}

// Each kept message is listed with its deadline, flagged in words when
// unwritten and near or past it, and its XML opens as application/xml.
func TestStaffEInvoiceMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "msg-1")
	var id int64
	if err := a.Store.DB.Get(&id, `SELECT id FROM einvoice_messages WHERE type='F0401' AND charge_id=$1`, ch.ID); err != nil {
		t.Fatal(err)
	}
	staff := httpSignIn(t, a.URL, "staff", nil)
	sid := "message-" + itoa(id)
	page := open(t, staff, a.URL+"/staff/einvoices")
	if st := strings.Join(strings.Fields(page.Doc.Find(`[data-testid="`+sid+`"] [data-testid="message-state"]`).Text()), " "); st != "尚未寫出" {
		t.Errorf("fresh message state %q", st)
	}
	a.Clock.Set(testNow.Add(37 * time.Hour))   // 11 hours before the 48-hour deadline
	staff = httpSignIn(t, a.URL, "staff", nil) // the console's session has ended meanwhile
	page = open(t, staff, a.URL+"/staff/einvoices")
	if st := page.Doc.Find(`[data-testid="` + sid + `"] [data-testid="message-state"]`).Text(); !strings.Contains(st, "期限將至") {
		t.Errorf("near message state %q", st)
	}
	a.Clock.Set(testNow.Add(49 * time.Hour))
	staff = httpSignIn(t, a.URL, "staff", nil)
	page = open(t, staff, a.URL+"/staff/einvoices")
	if st := page.Doc.Find(`[data-testid="` + sid + `"] [data-testid="message-state"]`).Text(); !strings.Contains(st, "已逾期") ||
		!strings.Contains(page.testID("einvoice-alerts"), "1 則訊息已超過上傳期限") {
		t.Errorf("overdue message state %q, alerts %q", st, page.testID("einvoice-alerts"))
	}
	res, err := staff.c.Get(page.link(t, "xml-"+itoa(id)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(b.String(), "<InvoiceNumber>"+ch.Invoice+"</InvoiceNumber>") {
		t.Errorf("XML: %d %s\n%.300s", res.StatusCode, res.Header.Get("Content-Type"), b.String())
	}
	if st := getStatus(t, staff, a.URL+"/staff/einvoices/messages/999999.xml"); st != http.StatusNotFound {
		t.Errorf("no such message: %d, want 404", st)
	}
}
