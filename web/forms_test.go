package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A page as the server rendered it, read the way a browser reads it: its
// forms are submitted with every input they hold, exactly as rendered,
// plus what a person types or ticks.

// htmlPage is one answer of the app, parsed.
type htmlPage struct {
	URL    *url.URL
	Status int
	Doc    *goquery.Document
	Body   string
}

// open GETs target as u (no redirect followed) and parses it.
func open(t *testing.T, u httpUser, target string) htmlPage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept-Language", "zh-TW")
	return send(t, u, req)
}

func send(t *testing.T, u httpUser, req *http.Request) htmlPage {
	t.Helper()
	res, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPage{URL: req.URL, Status: res.StatusCode, Doc: doc, Body: string(b)}
	if loc := res.Header.Get("Location"); loc != "" {
		next, err := req.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		p.URL = next // where the redirect leads
	}
	return p
}

// follow opens what a redirect leads to until a page that is not one,
// at most five hops, all on the app.
func follow(t *testing.T, u httpUser, p htmlPage) htmlPage {
	t.Helper()
	for range 5 {
		if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
			return p
		}
		p = open(t, u, p.URL.String())
	}
	t.Fatalf("too many redirects, last %s", p.URL)
	return p
}

// testID is the text of the element with that data-testid, trimmed.
func (p htmlPage) testID(id string) string {
	return strings.TrimSpace(p.Doc.Find(`[data-testid="` + id + `"]`).First().Text())
}

func (p htmlPage) has(id string) bool {
	return p.Doc.Find(`[data-testid="`+id+`"]`).Length() > 0
}

// link is the absolute URL of the link with that data-testid.
func (p htmlPage) link(t *testing.T, id string) string {
	t.Helper()
	href, ok := p.Doc.Find(`a[data-testid="` + id + `"]`).First().Attr("href")
	if !ok {
		t.Fatalf("%s: no link %q\n%s", p.URL, id, p.text())
	}
	abs, err := p.URL.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	return abs.String()
}

// text is the page's visible text, for failure messages.
func (p htmlPage) text() string {
	s := p.Doc.Find("main").Text()
	if s == "" {
		s = p.Doc.Text()
	}
	return strings.Join(strings.Fields(s), " ")
}

// form reads the form that contains the element sel selects (or is that
// form), with every value it would submit as rendered: hidden and text
// inputs, checked boxes and radios, selected options, text areas.
func (p htmlPage) form(t *testing.T, sel string) (action string, values url.Values) {
	t.Helper()
	f := p.Doc.Find(sel).First()
	if f.Length() == 0 {
		t.Fatalf("%s: nothing matches %s\n%s", p.URL, sel, p.text())
	}
	if !f.Is("form") {
		f = f.Closest("form")
	}
	if f.Length() == 0 {
		t.Fatalf("%s: %s is in no form", p.URL, sel)
	}
	values = url.Values{}
	f.Find("input[name], textarea[name], select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if _, disabled := s.Attr("disabled"); disabled || s.Closest("fieldset[disabled]").Length() > 0 {
			return
		}
		switch {
		case s.Is("textarea"):
			values.Add(name, s.Text())
		case s.Is("select"):
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			v, _ := opt.Attr("value")
			values.Add(name, v)
		default:
			typ, _ := s.Attr("type")
			v, _ := s.Attr("value")
			switch typ {
			case "checkbox", "radio":
				if _, on := s.Attr("checked"); on {
					values.Add(name, v)
				}
			case "submit", "button", "image", "file", "reset":
			default:
				values.Add(name, v)
			}
		}
	})
	a, _ := f.Attr("action")
	abs, err := p.URL.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	return abs.String(), values
}

// submit posts the form around sel as rendered, with set's fields
// replacing (or adding to) what it holds, as a person typing or ticking.
func (p htmlPage) submit(t *testing.T, u httpUser, sel string, set url.Values) htmlPage {
	t.Helper()
	action, values := p.form(t, sel)
	for k, v := range set {
		values[k] = v
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, action, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "zh-TW")
	return send(t, u, req)
}
