package web

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"webstore/billing"
)

// Fuzz tests of the form and JSON decoders the handlers call. `go test`
// runs the seeds; `go test -fuzz FuzzDecodePurchase ./web/` (one at a time)
// explores. Each input is a raw body as a browser or client would send it.

func FuzzDecodePurchase(f *testing.F) {
	// As the checkout page sends it, and its faults.
	f.Add("plan=high&key=Xk2-abc&terms=yes&expect_total=420&expect_offset=0&expect_from=medium&expect_code=")
	f.Add("plan=medium&key=k&terms=yes&expect_total=0&expect_offset=800&expect_from=light&expect_code=DEMO-2611-0001")
	f.Add("plan=high&key=k&expect_total=420&expect_offset=0")
	f.Add("plan=high&key=&terms=yes&expect_total=420&expect_offset=0")
	f.Add("plan=high&key=k&terms=yes&expect_total=4.2e2&expect_offset=0")
	f.Add("plan=high&key=k&terms=yes&expect_total=%2B420&expect_offset=-0")
	f.Add("plan=high&key=k&terms=yes&expect_total=99999999999999999999&expect_offset=0")
	f.Add("terms=yes&terms=no&key=a&key=b&expect_total=1&expect_offset=2")
	f.Add("key=" + strings.Repeat("k", maxIdempotencyKey+1) + "&terms=no")
	f.Add("key=" + strings.Repeat("k", maxIdempotencyKey) + "&terms=yes&expect_total=1&expect_offset=1")
	f.Add("%zz&plan=high")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		p, fault := decodePurchase(v)
		if p.Plan != v.Get("plan") || p.Key != v.Get("key") || p.Terms != (v.Get("terms") == "yes") {
			t.Fatalf("decodePurchase(%q) = %+v", raw, p)
		}
		if (fault == purchaseKeyTooLong) != (len(p.Key) > maxIdempotencyKey) {
			t.Fatalf("key of %d bytes: fault %d", len(p.Key), fault)
		}
		if fault == purchaseKeyTooLong {
			return
		}
		if (fault == purchaseNoTerms) != !p.Terms {
			t.Fatalf("terms %q: fault %d", v.Get("terms"), fault)
		}
		if fault == purchaseNoTerms {
			return
		}
		total, err1 := strconv.ParseInt(v.Get("expect_total"), 10, 64)
		offset, err2 := strconv.ParseInt(v.Get("expect_offset"), 10, 64)
		if incomplete := p.Key == "" || err1 != nil || err2 != nil; incomplete != (fault == purchaseIncomplete) {
			t.Fatalf("decodePurchase(%q): fault %d, incomplete %v", raw, fault, incomplete)
		}
		if fault != purchaseOK {
			return
		}
		want := billing.Quote{Plan: billing.PlanID(p.Plan), FromPlan: billing.PlanID(v.Get("expect_from")),
			Total: billing.Money(total), Offset: billing.Money(offset), Code: v.Get("expect_code")}
		if !quoteFieldsEqual(p.Expect, want) {
			t.Fatalf("decodePurchase(%q).Expect = %+v, want %+v", raw, p.Expect, want)
		}
		// The form the checkout page would render for this quote decodes
		// to the same purchase.
		again, fault := decodePurchase(url.Values{"plan": {p.Plan}, "key": {p.Key}, "terms": {"yes"},
			"expect_total": {strconv.FormatInt(int64(p.Expect.Total), 10)}, "expect_offset": {strconv.FormatInt(int64(p.Expect.Offset), 10)},
			"expect_from": {string(p.Expect.FromPlan)}, "expect_code": {p.Expect.Code}})
		if fault != purchaseOK || again.Plan != p.Plan || again.Key != p.Key || !quoteFieldsEqual(again.Expect, p.Expect) {
			t.Fatalf("re-encoded purchase: %+v fault %d, want %+v", again, fault, p)
		}
	})
}

// quoteFieldsEqual compares the fields a purchase form sets.
func quoteFieldsEqual(a, b billing.Quote) bool {
	return a.Plan == b.Plan && a.FromPlan == b.FromPlan && a.Total == b.Total && a.Offset == b.Offset && a.Code == b.Code
}

func FuzzInvoiceFromForm(f *testing.F) {
	f.Add("kind=member&email=a%40b.example.tw")
	f.Add("kind=mobile_barcode&carrier=%2Fabc%2B123&email=a%40b.tw")
	f.Add("kind=mobile_barcode&carrier=%EF%BC%8FABC%EF%BC%8B123&email=%EF%BD%81%40b.tw") // full-width, as typed on a phone
	f.Add("kind=citizen_certificate&carrier=ab12345678901234&email=a%40b.tw")
	f.Add("kind=company&company_title=%E7%86%8A%E7%BE%8E&tax_id=04595257&email=a%40b.tw")
	f.Add("kind=company&company_title=x&tax_id=04595258&email=a%40b.tw")
	f.Add("kind=donation&donation_code=919&email=a%40b.tw")
	f.Add("kind=+donation+&donation_code=+919+&email=+a%40b.tw+")
	f.Add("kind=unknown&email=a%40b.tw")
	f.Add("kind=&carrier=%2FABC%2B123")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		d := invoiceFromForm(v)
		if string(d.Kind) != v.Get("kind") || d.Carrier != v.Get("carrier") || d.CompanyTitle != v.Get("company_title") ||
			d.TaxID != v.Get("tax_id") || d.DonationCode != v.Get("donation_code") || d.Email != v.Get("email") {
			t.Fatalf("invoiceFromForm(%q) = %+v", raw, d)
		}
		// What the store does with it: normalise, then validate.
		n := d.Normalize()
		err := n.Validate()
		if err != nil {
			if billing.ErrorCode(err) != billing.EInvalid {
				t.Fatalf("details %+v refused with %v, want invalid", n, err)
			}
			return
		}
		if n.Normalize() != n {
			t.Fatalf("normalising accepted details again changed them: %+v → %+v", n, n.Normalize())
		}
		// Accepted details, shown on the form again and saved unchanged,
		// are accepted as they are.
		again := invoiceFromForm(url.Values{"kind": {string(n.Kind)}, "carrier": {n.Carrier}, "company_title": {n.CompanyTitle},
			"tax_id": {n.TaxID}, "donation_code": {n.DonationCode}, "email": {n.Email}})
		if again.Normalize() != n || again.Normalize().Validate() != nil {
			t.Fatalf("accepted details %+v, re-submitted: %+v", n, again.Normalize())
		}
	})
}

func FuzzDecodeUsageRequest(f *testing.F) {
	f.Add([]byte(`{"batch_id":"msg-api-42","kind":"push","messages":150,"sent_at":"2026-11-23T10:00:00+08:00"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"broadcast","messages":1,"sent_at":"2026-11-30T14:59:59Z","account_id":"cat"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"reply","messages":10000001,"sent_at":"2026-11-23T10:00:00Z"}`))
	f.Add([]byte(`{"batch_id":"","kind":"push","messages":1,"sent_at":"2026-11-23T10:00:00Z"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"push","messages":-1,"sent_at":"2026-11-23T10:00:00Z"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"push","messages":1.5,"sent_at":"2026-11-23T10:00:00Z"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"push","messages":1,"sent_at":"2026-11-23 10:00"}`))
	f.Add([]byte(`{"batch_id":"b","kind":"push","messages":1,"sent_at":"2026-11-23T10:00:00Z","extra":1}`))
	f.Add([]byte(`{"BATCH_ID":"b","Kind":"push","messages":1,"sent_at":"2026-11-23T10:00:00Z"} trailing`))
	f.Add([]byte(`{"batch_id":"\u0000\ud800","kind":"push","messages":1,"sent_at":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeUsageRequest(bytes.NewReader(body))
		if err != nil {
			return
		}
		// Accepted JSON, encoded again, decodes to the same request.
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", req, err)
		}
		again, err := decodeUsageRequest(bytes.NewReader(enc))
		if err != nil || again.BatchID != req.BatchID || again.Kind != req.Kind || again.Messages != req.Messages ||
			!again.SentAt.Equal(req.SentAt) || again.AccountID != req.AccountID {
			t.Fatalf("%s: decoded %+v, re-encoded %s, decoded %+v (%v)", body, req, enc, again, err)
		}
		b := req.batch("cat")
		if b.AccountID != "cat" || b.BatchID != req.BatchID || string(b.Kind) != req.Kind || b.Messages != req.Messages || !b.SentAt.Equal(req.SentAt) {
			t.Fatalf("batch of %+v: %+v", req, b)
		}
		if err := b.Validate(); err != nil {
			if billing.ErrorCode(err) != billing.EInvalid {
				t.Fatalf("batch %+v refused with %v, want invalid", b, err)
			}
			return
		}
		if b.BatchID == "" || len(b.BatchID) > 200 || !b.Kind.Valid() || b.Messages <= 0 || b.Messages > billing.MaxBatchMessages || b.SentAt.IsZero() {
			t.Fatalf("batch %+v accepted", b)
		}
	})
}

func FuzzCampaignForm(f *testing.F) {
	f.Add("id=summer&name=%E5%A4%8F%E5%AD%A3&face=800&from=2026-12-01T00:00&until=2026-12-31T23:59:59&zone=Asia%2FTaipei&regions=TW&kinds=credit_card&kinds=line_pay&upgrades=light-medium&renewals=high")
	f.Add("id=x&face=+1+&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia%2FTokyo&regions=tw%E3%80%81jp%2C+th")
	f.Add("id=x&face=1&from=2026-03-08T02:30&until=2026-11-01T01:30&zone=America%2FNew_York")
	f.Add("id=x&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=")
	f.Add("id=x&face=1.5&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia%2FTaipei")
	f.Add("id=x&face=1&from=2026-12-01&until=2026-12-31T00:00&zone=Asia%2FTaipei")
	f.Add("id=x&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=..%2F..%2Fetc%2Fpasswd")
	f.Add("id=x&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Mars%2FOlympus")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		camp, form, err := campaignFromValues(v)
		if form.ID != strings.TrimSpace(v.Get("id")) || form.Name != strings.TrimSpace(v.Get("name")) || form.Face != v.Get("face") ||
			form.Zone != v.Get("zone") || camp.ID != form.ID || camp.Name != form.Name {
			t.Fatalf("campaignFromValues(%q): form %+v, campaign %+v", raw, form, camp)
		}
		for _, r := range camp.Regions {
			if r == "" || r != strings.ToUpper(r) || strings.ContainsAny(r, ", 、") {
				t.Fatalf("regions of %q: %q", v.Get("regions"), camp.Regions)
			}
		}
		if len(camp.PaymentKinds) != len(v["kinds"]) || len(camp.RenewalPlans) != len(v["renewals"]) || len(camp.Upgrades) > len(v["upgrades"]) {
			t.Fatalf("campaignFromValues(%q): %+v", raw, camp)
		}
		if err != nil {
			if billing.ErrorCode(err) != billing.EInvalid {
				t.Fatalf("campaignFromValues(%q): %v, want invalid", raw, err)
			}
			return
		}
		face, perr := strconv.ParseInt(strings.TrimSpace(v.Get("face")), 10, 64)
		if perr != nil || camp.FaceValue != billing.Money(face) {
			t.Fatalf("face %q read as %d", v.Get("face"), camp.FaceValue)
		}
		if camp.ValidFrom.IsZero() || camp.ValidUntil.IsZero() {
			t.Fatalf("campaignFromValues(%q): window %s–%s", raw, camp.ValidFrom, camp.ValidUntil)
		}
		// The window, written back in the campaign's zone as the form
		// shows it, reads as the same wall time (an instant in a zone's
		// repeated hour may read as either, so wall times are compared).
		loc, _ := time.LoadLocation(v.Get("zone"))
		for _, at := range []time.Time{camp.ValidFrom, camp.ValidUntil} {
			wall := at.In(loc).Format("2006-01-02T15:04:05")
			back, err := parseTaipei(wall, loc)
			if err != nil || back.In(loc).Format("2006-01-02T15:04:05") != wall {
				t.Fatalf("%s in %s read back as %s (%v)", wall, loc, back, err)
			}
		}
	})
}

func FuzzMemberRole(f *testing.F) {
	known := []billing.Role{billing.RoleAdmin, billing.RoleOperator, billing.RoleOperatorNoBroadcast, billing.RoleOperatorNoStats}
	for _, r := range known {
		f.Add("role=" + string(r))
	}
	f.Add("role=Admin")
	f.Add("role=+admin")
	f.Add("role=owner")
	f.Add("role=admin%00")
	f.Add("role=")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		r := billing.Role(v.Get("role"))
		if r.Valid() != slices.Contains(known, r) {
			t.Fatalf("role %q: Valid() = %v", r, r.Valid())
		}
		if r.Valid() && strings.IndexFunc(string(r), func(c rune) bool { return unicode.IsSpace(c) || unicode.IsUpper(c) }) >= 0 {
			t.Fatalf("role %q with spaces or capitals accepted", r)
		}
	})
}

// The staff campaign form's bounds: whatever is posted, a campaign that
// decodes and passes billing's checks has an id fit for a URL, a face value
// from 1 to the cap, a clean name of at most 60 characters and a window;
// the decoded fields are the posted ones.
func FuzzCampaignBounds(f *testing.F) {
	f.Add("id=winter&name=%E5%86%AC&face=800&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=q%3Fx%3D1%23f&face=800&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=a%2Fb&face=800&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=x&face=9223372036854775807&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=x&face=1201&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=x&name=%E2%80%AE&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei")
	f.Add("id=x&name=%E2%80%8B&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=UTC&regions=tw,jp&kinds=credit_card&upgrades=light>high&renewals=high")
	f.Add("id=x&face=-1&from=x&until=&zone=Mars/Base")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		camp, form, err := campaignFromValues(v)
		if form.ID != strings.TrimSpace(v.Get("id")) || camp.ID != form.ID {
			t.Fatalf("id %q decoded as %q / %q", v.Get("id"), form.ID, camp.ID)
		}
		if err != nil {
			return
		}
		camp = billing.DefaultCampaignTerms(camp)
		camp.Name = billing.TrimText(camp.Name)
		const cap = 1200
		if camp.ValidateNew(cap) != nil {
			return
		}
		if !billing.ValidID(camp.ID) || camp.FaceValue < 1 || camp.FaceValue > cap || !camp.ValidUntil.After(camp.ValidFrom) {
			t.Fatalf("accepted %q: %+v", raw, camp)
		}
		if camp.Name != "" {
			if clean, err := billing.CleanText("name", camp.Name, billing.MaxCampaignName); err != nil || clean != camp.Name {
				t.Fatalf("accepted name %q: %v", camp.Name, err)
			}
		}
	})
}
