package billing

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// CodeAlphabet is the alphabet of generated promo codes: digits and capital
// letters without the ones people confuse when reading a code aloud or off
// a screen (0/O, 1/I/L). Its 31 symbols are a prime number, which lets the
// weighted check below catch every single-symbol error and every swap.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Generated codes are GeneratedCodeLen symbols of CodeAlphabet (normalized),
// shown in groups of four: XXXX-XXXX-XXXX-XXXC. The first fifteen are random
// (about 74 bits), the last is their check symbol. Codes of other shapes —
// the document's SUMMER-2024-0001, the seed's DEMO-2611-0001, scenario
// files' codes — are not generated codes and carry no check symbol.
const GeneratedCodeLen = 16

var codeIndex = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(CodeAlphabet); i++ {
		t[CodeAlphabet[i]] = int8(i)
	}
	return t
}()

// codeCheck is the check symbol of a fifteen-symbol body: weighting the
// symbols' values by their positions 1..16, the check makes the sum a
// multiple of 31 (the ISBN-10 idea, mod 31 instead of 11). Because 31 is
// prime and every weight and every distance between positions is below 31,
// any single wrong symbol and any swap of two different symbols changes the
// sum and is caught.
func codeCheck(body []byte) byte {
	const n = len(CodeAlphabet)
	sum := 0
	for i, b := range body {
		sum += (i + 1) * int(codeIndex[b])
	}
	// c·16 ≡ −sum (mod 31); 16⁻¹ ≡ 2 (mod 31) since 16·2 = 32.
	c := ((n - sum%n) % n) * 2 % n
	return CodeAlphabet[c]
}

// IsGeneratedShape reports whether a normalized code has the shape of a
// generated code (its length, every symbol from CodeAlphabet).
func IsGeneratedShape(norm string) bool {
	if len(norm) != GeneratedCodeLen {
		return false
	}
	for i := 0; i < len(norm); i++ {
		if codeIndex[norm[i]] < 0 {
			return false
		}
	}
	return true
}

// CheckCodeTypo refuses, with ECodeMistyped, a normalized code that has the
// generated shape but whose check symbol does not match: a typo caught
// before any database look-up. Codes of any other shape pass untouched.
func CheckCodeTypo(norm string) error {
	if !IsGeneratedShape(norm) {
		return nil
	}
	if codeCheck([]byte(norm[:GeneratedCodeLen-1])) != norm[GeneratedCodeLen-1] {
		return Errorf(ECodeMistyped, "")
	}
	return nil
}

// CodeGenerator makes generated codes from a source of randomness
// (crypto/rand by default).
type CodeGenerator struct {
	Rand io.Reader
}

// Next returns a fresh code in its display form, e.g. 7KQ3-HXNM-2WRT-PZ9D.
// Uniqueness is the database's job (a collision is regenerated); with 74
// random bits one is vanishingly rare.
func (g CodeGenerator) Next() (string, error) {
	r := g.Rand
	if r == nil {
		r = rand.Reader
	}
	var raw [GeneratedCodeLen - 1]byte
	body := make([]byte, 0, GeneratedCodeLen)
	// Rejection sampling keeps every symbol equally likely: bytes ≥ 248
	// (8 × 31) would favour the first symbols.
	for len(body) < GeneratedCodeLen-1 {
		if _, err := io.ReadFull(r, raw[:GeneratedCodeLen-1-len(body)]); err != nil {
			return "", fmt.Errorf("read randomness: %w", err)
		}
		for _, b := range raw[:GeneratedCodeLen-1-len(body)] {
			if b < 248 {
				body = append(body, CodeAlphabet[int(b)%len(CodeAlphabet)])
			}
		}
	}
	body = append(body, codeCheck(body))
	return DisplayCode(string(body)), nil
}

// DisplayCode groups a generated code's symbols in fours; other codes are
// returned as they are.
func DisplayCode(norm string) string {
	if !IsGeneratedShape(norm) {
		return norm
	}
	var b strings.Builder
	for i := 0; i < len(norm); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(norm[i : i+4])
	}
	return b.String()
}
