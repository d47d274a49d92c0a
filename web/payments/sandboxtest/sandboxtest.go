// Package sandboxtest plays the person at the payment sandboxes' pages
// (web/payments/linepay and web/payments/cardgw) with plain HTTP, the way a
// browser without JavaScript would: it reads the links and forms of each
// page and submits them. Tests of the webstore's checkout use it to finish a
// payment end to end.
//
// Every function stops at the first redirect and returns where it leads, so
// a caller sees exactly which merchant URL the sandbox sent the person to.
//
// NewDB gives a test a database with the sandboxes' tables, as where the
// app mounts them.
package sandboxtest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Page is one answer of a sandbox: a redirect (Location set) or a page.
type Page struct {
	URL      *url.URL
	Status   int
	Location *url.URL
	Body     string
}

// ApproveLinePay does what the person does on LINE for a requested payment:
// opens paymentURL (paymentUrl.web), follows 在此模擬手機上的 LINE to the phone
// page, picks the card (one of linepay.Card*), taps 下一步 and then 新增 (or
// 確認付款 for a one-off payment). It
// returns where LINE Pay sends the person: the merchant's confirmUrl with
// transactionId and orderId.
func ApproveLinePay(ctx context.Context, hc *http.Client, paymentURL, cardID string) (*url.URL, error) {
	wait, err := Get(ctx, hc, paymentURL)
	if err != nil {
		return nil, err
	}
	phoneURL, err := wait.Link("在此模擬手機上的 LINE")
	if err != nil {
		return nil, err
	}
	phone, err := Get(ctx, hc, phoneURL.String())
	if err != nil {
		return nil, err
	}
	choice, err := phone.Submit(ctx, hc, "下一步", url.Values{"card": {cardID}})
	if err != nil {
		return nil, err
	}
	if choice.Location == nil {
		return nil, fmt.Errorf("sandboxtest: choosing card %s gave HTTP %d, not a redirect: %s", cardID, choice.Status, snippet(choice.Body))
	}
	confirm, err := Get(ctx, hc, choice.Location.String())
	if err != nil {
		return nil, err
	}
	// 新增 registers automatic payment (PREAPPROVED); a one-off payment
	// reads 確認付款.
	done, err := confirm.Submit(ctx, hc, "新增", nil)
	if err != nil {
		if done, err = confirm.Submit(ctx, hc, "確認付款", nil); err != nil {
			return nil, err
		}
	}
	if done.Location == nil {
		return nil, fmt.Errorf("sandboxtest: 新增 gave HTTP %d, not a redirect: %s", done.Status, snippet(done.Body))
	}
	return done.Location, nil
}

// CancelLinePay cancels a requested payment from paymentUrl.web and returns
// where LINE Pay sends the person: the merchant's cancelUrl.
func CancelLinePay(ctx context.Context, hc *http.Client, paymentURL string) (*url.URL, error) {
	wait, err := Get(ctx, hc, paymentURL)
	if err != nil {
		return nil, err
	}
	done, err := wait.Submit(ctx, hc, "取消付款並返回商店", nil)
	if err != nil {
		return nil, err
	}
	if done.Location == nil {
		return nil, fmt.Errorf("sandboxtest: cancel gave HTTP %d, not a redirect: %s", done.Status, snippet(done.Body))
	}
	return done.Location, nil
}

// Card is what the person types into the card gateway's card fields.
type Card struct {
	Number string
	Expiry string // MM/YY
	CVC    string
	Name   string
}

// EnterCard opens the card gateway's fields page, types the card and saves
// it. A redirect (Location: return_url?card_token=...) means the gateway
// took the card; a page means it did not, and says why.
func EnterCard(ctx context.Context, hc *http.Client, fieldsURL string, c Card) (Page, error) {
	fields, err := Get(ctx, hc, fieldsURL)
	if err != nil {
		return Page{}, err
	}
	return fields.Submit(ctx, hc, "儲存卡片", url.Values{"number": {c.Number}, "exp": {c.Expiry}, "cvc": {c.CVC}, "name": {c.Name}})
}

// CancelCard opens the card fields and presses 取消; the redirect goes to
// return_url?card_error=cancelled.
func CancelCard(ctx context.Context, hc *http.Client, fieldsURL string) (Page, error) {
	fields, err := Get(ctx, hc, fieldsURL)
	if err != nil {
		return Page{}, err
	}
	return fields.Submit(ctx, hc, "取消", nil)
}

// Get fetches a page without following redirects; anything but 200 or a
// redirect is an error.
func Get(ctx context.Context, hc *http.Client, target string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Page{}, fmt.Errorf("sandboxtest: %w", err)
	}
	p, err := do(hc, req)
	if err != nil {
		return p, err
	}
	if p.Status != http.StatusOK && p.Location == nil {
		return p, fmt.Errorf("sandboxtest: GET %s: HTTP %d: %s", target, p.Status, snippet(p.Body))
	}
	return p, nil
}

// Link returns the absolute URL of the link whose text is text.
func (p Page) Link(text string) (*url.URL, error) {
	for _, m := range linkRE.FindAllStringSubmatch(p.Body, -1) {
		if strings.TrimSpace(stripTags(m[2])) == text {
			href := attrs(m[1])["href"]
			return p.resolve(href)
		}
	}
	return nil, fmt.Errorf("sandboxtest: no link %q on %s: %s", text, p.URL, snippet(p.Body))
}

// Submit posts the form whose submit button reads button, with its hidden
// fields and set (which overrides them). It does not follow the redirect.
func (p Page) Submit(ctx context.Context, hc *http.Client, button string, set url.Values) (Page, error) {
	for _, m := range formRE.FindAllStringSubmatch(p.Body, -1) {
		pressed, ok := findButton(m[2], button)
		if !ok {
			continue
		}
		a := attrs(m[1])
		if !strings.EqualFold(a["method"], "post") {
			return Page{}, fmt.Errorf("sandboxtest: form %q is not a POST form", button)
		}
		action, err := p.resolve(a["action"])
		if err != nil {
			return Page{}, err
		}
		values := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if ia["type"] == "hidden" && ia["name"] != "" {
				values.Set(ia["name"], ia["value"])
			}
		}
		// A browser sends the pressed button's name and value.
		if pressed["name"] != "" {
			values.Set(pressed["name"], pressed["value"])
		}
		for k, v := range set {
			values[k] = v
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
		if err != nil {
			return Page{}, fmt.Errorf("sandboxtest: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(hc, req)
	}
	return Page{}, fmt.Errorf("sandboxtest: no form with button %q on %s: %s", button, p.URL, snippet(p.Body))
}

func (p Page) resolve(ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("sandboxtest: bad URL %q: %w", ref, err)
	}
	if p.URL == nil {
		return u, nil
	}
	return p.URL.ResolveReference(u), nil
}

// do sends req without following redirects.
func do(hc *http.Client, req *http.Request) (Page, error) {
	c := http.Client{}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return Page{}, fmt.Errorf("sandboxtest: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Page{}, fmt.Errorf("sandboxtest: read %s: %w", req.URL, err)
	}
	p := Page{URL: req.URL, Status: resp.StatusCode, Body: string(body)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return p, fmt.Errorf("sandboxtest: redirect from %s: %w", req.URL, err)
		}
		p.Location = loc
	}
	return p, nil
}

var (
	formRE   = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`<input\b([^>]*)>`)
	buttonRE = regexp.MustCompile(`(?s)<button\b([^>]*)>(.*?)</button>`)
	linkRE   = regexp.MustCompile(`(?s)<a\b([^>]*)>(.*?)</a>`)
	attrRE   = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

// findButton returns the attributes of the form's button reading text.
func findButton(form, text string) (map[string]string, bool) {
	for _, b := range buttonRE.FindAllStringSubmatch(form, -1) {
		if strings.TrimSpace(stripTags(b[2])) == text {
			return attrs(b[1]), true
		}
	}
	return nil, false
}

// attrs reads a tag's double-quoted attributes, unescaped.
func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func stripTags(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, "")) }

func snippet(s string) string {
	s = strings.Join(strings.Fields(stripTags(s)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
