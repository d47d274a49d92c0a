package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"webstore/web/payments/linepay"
)

// endless is a body that never ends, counting what was read of it.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

func post(t *testing.T, target, contentType, lang string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func multipartBody(t *testing.T, field, file string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, file)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	w.Close()
	return w.FormDataContentType(), &buf
}

// Bodies are bounded before anything parses them, the CSRF check included:
// an anonymous oversize sign-in is a 413 in the visitor's language, and an
// endless one is not read to its end; multipart is refused where no file
// is taken.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	form := "application/x-www-form-urlencoded"
	big := "login=alice&password=" + strings.Repeat("x", 100<<10)

	res, body := post(t, a.URL+"/signin", form, "", strings.NewReader(big))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "送出的資料太大") {
		t.Errorf("100 KB sign-in: %s, want 413 in zh-TW:\n%.300s", res.Status, body)
	}
	res, body = post(t, a.URL+"/signin", form, "en-US,en", strings.NewReader(big))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large") {
		t.Errorf("100 KB sign-in in English: %s:\n%.300s", res.Status, body)
	}

	// No Content-Length (chunked): still refused after the limit, and the
	// rest is never read (a form parser alone would read 10 MB; what the
	// client wrote beyond the limit sits in socket buffers).
	src := &endless{}
	res, _ = post(t, a.URL+"/signin", form, "", io.LimitReader(src, 100<<20))
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("endless sign-in: %s, want 413", res.Status)
	}
	if n := src.n.Load(); n > 8<<20 {
		t.Errorf("the server read %d MB of an endless body", n>>20)
	}

	ct, mp := multipartBody(t, "file", "x.bin", []byte("hello"))
	if res, body := post(t, a.URL+"/signin", ct, "", mp); res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(body, "不接受檔案上傳") {
		t.Errorf("multipart sign-in: %s, want 415:\n%.300s", res.Status, body)
	}

	// The simulator takes a scenario file of up to 1 MB, as multipart.
	staff := httpSignIn(t, a.URL, "staff", nil)
	ct, mp = multipartBody(t, "file", "s.json", append(bytes.Repeat([]byte(" "), 900<<10), `{"name": 1}`...))
	if status, body := staff.do(t, "POST", a.URL+"/staff/simulate", ct, mp); status != http.StatusUnprocessableEntity {
		t.Errorf("900 KB scenario upload: %d, want 422 (read and refused as a scenario):\n%.300s", status, body)
	}
	ct, mp = multipartBody(t, "file", "s.json", bytes.Repeat([]byte(" "), 1200<<10))
	if status, _ := staff.do(t, "POST", a.URL+"/staff/simulate", ct, mp); status != http.StatusRequestEntityTooLarge {
		t.Errorf("1.2 MB scenario upload: %d, want 413", status)
	}
	// ...but a staff form elsewhere takes 64 KB.
	if status, _ := staff.do(t, "POST", a.URL+"/staff/campaigns", form,
		strings.NewReader(url.Values{"id": {strings.Repeat("x", 70<<10)}}.Encode())); status != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KB campaign form: %d, want 413", status)
	}
	// The usage API and the simulator API answer in JSON.
	res, _ = post(t, a.URL+"/api/usage", "application/json", "", strings.NewReader(`{"batch_id": "`+strings.Repeat("x", 70<<10)+`"}`))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("70 KB usage report: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
}

// An idempotency key too long for the charges' unique index is a 400 with
// a clear message and a fresh key on the page, not a 500; the checkout
// never hands such a key out.
func TestOverlongIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	alice := httpSignIn(t, a.URL, "alice", nil)
	// Random, so PostgreSQL cannot compress it under the index's limit.
	b := make([]byte, 1500)
	rand.Read(b)
	long := hex.EncodeToString(b)
	form := url.Values{"plan": {"high"}, "key": {long}, "terms": {"yes"}, "expect_from": {"medium"},
		"expect_total": {"420"}, "expect_offset": {"0"}}
	status, body := alice.do(t, "POST", a.URL+"/a/cat/checkout", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if status != http.StatusBadRequest || !strings.Contains(body, "購買識別碼無效") {
		t.Errorf("purchase with a 3 KB key: %d, want 400 with the reason:\n%.400s", status, body)
	}
	if strings.Contains(body, long) {
		t.Error("the refused page hands the long key back")
	}
	if n := countCharges(t, a, "cat"); n != 0 {
		t.Errorf("%d charges after the refusal", n)
	}
	status, body = alice.do(t, "GET", a.URL+"/a/cat/checkout?plan=high&key="+long, "", nil)
	if status != http.StatusOK || strings.Contains(body, `name="key" value="`+long) || !strings.Contains(body, `name="key" value="`) {
		t.Errorf("checkout with a 3 KB key in its URL: %d; the form keeps it: %v", status, strings.Contains(body, `name="key" value="`+long))
	}
}

// A NUL or bytes that are not UTF-8 anywhere in a request are a 400: they
// would otherwise reach PostgreSQL, which stores neither in text (a NUL in
// the sign-in's login was a 500).
func TestNULAndInvalidUTF8Refused(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	alice := httpSignIn(t, a.URL, "alice", nil)
	staff := httpSignIn(t, a.URL, "staff", nil)
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		who                 httpUser
		method, path, ctype string
		body                string
	}{
		{alice, "POST", "/signin", form, "login=al%00ice&password=x"},
		{alice, "POST", "/signin", form, "login=%ff%fe&password=x"},
		{alice, "POST", "/a/cat/checkout/code", form, "plan=high&key=k&code=DEMO%00"},
		{alice, "GET", "/a/cat/checkout?plan=high&key=%00", "", ""},
		{alice, "GET", "/a/ca%00t/plan", "", ""},
		{staff, "GET", "/staff/accounts?q=%ff", "", ""},
		{staff, "POST", "/staff/api/simulate", "application/json", `{"name": "a\u0000b"}`},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		status, page := tc.who.do(t, tc.method, a.URL+tc.path, tc.ctype, body)
		if status != http.StatusBadRequest {
			t.Errorf("%s %s %q: %d, want 400:\n%.200s", tc.method, tc.path, tc.body, status, page)
		}
	}
	if status, _ := alice.do(t, "POST", a.URL+"/signin", form, strings.NewReader("login=%E7%8E%8B&password=x")); status != http.StatusUnauthorized {
		t.Errorf("a login in Chinese: %d, want 401", status)
	}
}
