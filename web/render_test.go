package web

import "testing"

// A next= parameter only ever leads to a page of this site.
func TestLocalNext(t *testing.T) {
	for next, want := range map[string]string{
		"/a/bear/checkout?plan=high&key=k": "/a/bear/checkout?plan=high&key=k",
		"/":                                "/",
		"":                                 "/def",
		"https://evil.example/":            "/def",
		"//evil.example":                   "/def",
		"/\\evil.example":                  "/def",
		"/\t/evil.example":                 "/def",
		"/\n/evil.example":                 "/def",
		"javascript:alert(1)":              "/def",
		"a/bear":                           "/def",
	} {
		if got := localNext(next, "/def"); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
}
