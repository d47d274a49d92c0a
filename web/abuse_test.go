package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The usage API takes a batch sent in the current or the previous billing
// month, at most five minutes ahead; anything else is a 400 that records
// nothing.
func TestUsageSentAtWindow(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	tok, err := a.Store.CreateAPIToken(context.Background(), "test", "cat", "messaging")
	if err != nil {
		t.Fatal(err)
	}
	now := a.Clock.Now()
	send := func(batch string, at string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/usage",
			strings.NewReader(`{"batch_id":"`+batch+`","kind":"broadcast","messages":1,"sent_at":"`+at+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := res.Body.Read(buf)
		b.Write(buf[:n])
		return res.StatusCode, b.String()
	}
	for _, tc := range []struct {
		batch, at string
		want      int
	}{
		{"year0", "0000-01-01T00:00:00Z", 400},
		{"last-year", now.AddDate(-1, 0, 0).Format(time.RFC3339), 400},
		{"two-months-back", now.AddDate(0, -2, 0).Format(time.RFC3339), 400},
		{"ahead", now.Add(6 * time.Minute).Format(time.RFC3339), 400},
		{"now", now.Format(time.RFC3339), 201},
		{"clock-drift", now.Add(4 * time.Minute).Format(time.RFC3339), 201},
		{"last-month", now.AddDate(0, -1, 0).Format(time.RFC3339), 201},
	} {
		code, body := send(tc.batch, tc.at)
		if code != tc.want || tc.want == 400 && !strings.Contains(body, `"invalid_input"`) {
			t.Errorf("sent_at %s: %d %s, want %d", tc.at, code, body, tc.want)
		}
	}
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM usage_batches WHERE account_id = 'cat' AND batch_id IN ('year0', 'last-year', 'two-months-back', 'ahead')`); err != nil || n != 0 {
		t.Errorf("%d refused batches recorded (%v)", n, err)
	}
}

// /staff/api/simulate takes exactly application/json (charset allowed),
// and a scenario that lists a code twice is a 400 naming the field, not a
// 409 "in progress".
func TestStaffAPISimulateBounds(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	st := httpSignIn(t, a.URL, "staff", nil)
	for ct, want := range map[string]int{
		"application/jsonx":               http.StatusUnsupportedMediaType,
		"application/json-patch+json":     http.StatusUnsupportedMediaType,
		"application/json; charset=utf-8": http.StatusBadRequest, // reaches the parser: {} has no accounts
		"application/json":                http.StatusBadRequest,
	} {
		if status, body := st.do(t, "POST", a.URL+"/staff/api/simulate", ct, strings.NewReader(`{"accounts":[{"id":"a","region":"TW","plan":"gold"}]}`)); status != want {
			t.Errorf("Content-Type %q: %d %s, want %d", ct, status, body, want)
		}
	}
	dup := `{"name":"dup","accounts":[{"id":"a","region":"TW","plan":"light","payment_method":"credit_card"}],
		"campaigns":[{"id":"c","face_value":800,"valid_from":"2024-06-07T00:00:00+08:00","valid_until":"2024-08-31T23:59:59+08:00","codes":["DUP-1","dup1"]}],
		"events":[]}`
	status, body := st.do(t, "POST", a.URL+"/staff/api/simulate", "application/json", strings.NewReader(dup))
	if status != http.StatusBadRequest || !strings.Contains(body, `campaigns[0].codes[1]`) || !strings.Contains(body, "duplicate code") {
		t.Errorf("a duplicate code: %d %s, want 400 naming campaigns[0].codes[1]", status, body)
	}
}

// Campaign ids are checked when staff create one, and escaped wherever the
// console writes them into a URL: a campaign stored before the check, with
// '?', '#' or '/' in its id, is reached at its own page and its edit form
// saves over itself, never over campaign "q".
func TestCampaignIDsInURLs(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	st := httpSignIn(t, a.URL, "staff", nil)
	ctx := context.Background()
	for _, id := range []string{"q", "q?x=1#f", "a/b"} {
		if _, err := a.Store.DB.ExecContext(ctx, `INSERT INTO campaigns (id, name, face_value, valid_from, valid_until, regions, payment_kinds, upgrades, renewal_plans, created_at)
			SELECT $1, $1, 500, valid_from, valid_until, regions, payment_kinds, upgrades, renewal_plans, created_at FROM campaigns WHERE id = 'summer-2024'`, id); err != nil {
			t.Fatal(err)
		}
	}
	_, list := getPage(t, st, a.URL+"/staff/campaigns", "zh-TW")
	for _, id := range []string{"q?x=1#f", "a/b"} {
		href := "/staff/campaigns/" + url.PathEscape(id)
		if !strings.Contains(list, `href="`+href+`"`) {
			t.Errorf("the list does not link %q as %s", id, href)
		}
		res, page := getPage(t, st, a.URL+href, "zh-TW")
		if res.StatusCode != http.StatusOK || !strings.Contains(page, `action="`+href+`"`) {
			t.Errorf("GET %s: %d; its edit form does not post to itself", href, res.StatusCode)
		}
		form := url.Values{"name": {"renamed"}, "face": {"600"}, "from": {"2024-06-07T00:00"}, "until": {"2024-08-31T23:59"}, "zone": {"Asia/Taipei"}}
		if status, body := st.do(t, "POST", a.URL+href, "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusSeeOther {
			t.Errorf("save %q: %d %.300s", id, status, body)
		}
	}
	var q, odd int64
	a.Store.DB.Get(&q, `SELECT face_value FROM campaigns WHERE id = 'q'`)
	a.Store.DB.Get(&odd, `SELECT count(*) FROM campaigns WHERE id IN ('q?x=1#f', 'a/b') AND face_value = 600`)
	if q != 500 || odd != 2 {
		t.Errorf("after saving the odd ids: campaign q's face %d (want 500 untouched), %d odd ones saved (want 2)", q, odd)
	}
	// A new campaign's id must fit a URL.
	form := url.Values{"id": {"bad/id"}, "face": {"100"}, "from": {"2026-12-01T00:00"}, "until": {"2026-12-31T00:00"}, "zone": {"Asia/Taipei"}}
	if status, body := st.do(t, "POST", a.URL+"/staff/campaigns", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusUnprocessableEntity || !strings.Contains(body, "活動代號只能使用") {
		t.Errorf("create bad/id: %d", status)
	}
	// A face value over the highest plan fee is refused in the form.
	form.Set("id", "huge")
	form.Set("face", "9223372036854775807")
	if status, body := st.do(t, "POST", a.URL+"/staff/campaigns", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusUnprocessableEntity || !strings.Contains(body, "面額最多") {
		t.Errorf("create with face NT$9,223,372,036,854,775,807: %d", status)
	}
}
