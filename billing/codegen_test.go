package billing

import (
	"strings"
	"testing"
)

func TestGeneratedCodesCheckAndShape(t *testing.T) {
	g := CodeGenerator{}
	seen := map[string]bool{}
	for range 2000 {
		c, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 19 || strings.Count(c, "-") != 3 {
			t.Fatalf("%q: want XXXX-XXXX-XXXX-XXXX", c)
		}
		n := NormalizeCode(c)
		if !IsGeneratedShape(n) {
			t.Fatalf("%q is not of the generated shape", c)
		}
		if strings.ContainsAny(n, "0O1IL") {
			t.Fatalf("%q has an ambiguous symbol", c)
		}
		if err := CheckCodeTypo(n); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		if seen[n] {
			t.Fatalf("%q generated twice", c)
		}
		seen[n] = true
	}
}

// Every single-symbol error and every swap of two different neighbours is
// caught by the check symbol.
func TestCodeCheckCatchesTypos(t *testing.T) {
	g := CodeGenerator{}
	for range 200 {
		c, _ := g.Next()
		n := []byte(NormalizeCode(c))
		for i := range n {
			orig := n[i]
			for j := 0; j < len(CodeAlphabet); j++ {
				if CodeAlphabet[j] == orig {
					continue
				}
				n[i] = CodeAlphabet[j]
				if CheckCodeTypo(string(n)) == nil {
					t.Fatalf("%s with symbol %d changed to %c passes the check", c, i, CodeAlphabet[j])
				}
			}
			n[i] = orig
		}
		for i := 0; i+1 < len(n); i++ {
			if n[i] == n[i+1] {
				continue
			}
			n[i], n[i+1] = n[i+1], n[i]
			if err := CheckCodeTypo(string(n)); ErrorCode(err) != ECodeMistyped {
				t.Fatalf("%s with symbols %d,%d swapped: got %v, want code_mistyped", c, i, i+1, err)
			}
			n[i], n[i+1] = n[i+1], n[i]
		}
	}
}

func TestCodeTypoLeavesOtherShapesAlone(t *testing.T) {
	for _, c := range []string{"SUMMER-2024-0001", "DEMO-2611-0001", "BEAR-0611-AAAA", "KEEP-0001", "ABCD-EFGH-JKMN-PQR", "ABCD-EFGH-JKMN-PQRS-T"} {
		if err := CheckCodeTypo(NormalizeCode(c)); err != nil {
			t.Errorf("%s: %v, want no opinion on a code of another shape", c, err)
		}
	}
	// Typed in lower case with full-width dashes and spaces, a good code passes.
	c, _ := CodeGenerator{}.Next()
	typed := strings.ToLower(strings.ReplaceAll(c, "-", " - "))
	if err := CheckCodeTypo(NormalizeCode(typed)); err != nil {
		t.Errorf("%q typed as %q: %v", c, typed, err)
	}
}

func TestRegistrationRefusesMistypedCode(t *testing.T) {
	c, _ := CodeGenerator{}.Next()
	n := []byte(NormalizeCode(c))
	last := n[len(n)-1]
	n[len(n)-1] = CodeAlphabet[(strings.IndexByte(CodeAlphabet, last)+1)%len(CodeAlphabet)]
	err := CheckRegistration(Registration{Account: Account{ID: "bear", Region: "TW"}, Typed: string(n)})
	if ErrorCode(err) != ECodeMistyped {
		t.Fatalf("got %v, want code_mistyped", err)
	}
	if msg := CodeMessage(ECodeMistyped, "zh-TW"); !strings.Contains(msg, "檢查碼") {
		t.Errorf("zh-TW message %q does not say the check character is wrong", msg)
	}
	// A well-formed code that does not exist is still "not found".
	err = CheckRegistration(Registration{Account: Account{ID: "bear", Region: "TW"}, Typed: NormalizeCode(c)})
	if ErrorCode(err) != ECodeNotFound {
		t.Fatalf("got %v, want code_not_found", err)
	}
}

func BenchmarkGenerateCode(b *testing.B) {
	g := CodeGenerator{}
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
