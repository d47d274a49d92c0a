package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseScenario: the scenario parser (the CLI's, the staff console's and
// POST /staff/api/simulate's) never panics; every refusal is an
// *InputError naming a field; and a scenario it accepts, written out again
// as JSON, is accepted again unchanged.
func FuzzParseScenario(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "scenarios", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"name": 1}`, `{"accounts": [{"id": "a", "region": "TW", "plan": "gold"}]}`,
		`{"accounts": [{"id": "a", "region": "TW", "plan": "light", "payment_method": "cash"}]}`,
		`{"events": [{"at": "2024-06-01T00:00:00+08:00", "do": "renew", "month": "2024-13"}]}`,
		`{"campaigns": [{"id": "c", "face_value": 800, "valid_from": "2024-06-07T00:00:00+08:00", "valid_until": "2024-06-01T00:00:00+08:00"}]}`,
		`{"accounts": [], "extra": true}`, `{"events": [{"at": "yesterday", "do": "upgrade"}]}`, "{\"name\": \"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Msg == "" {
				t.Fatalf("ParseScenario(%q): %#v, want an *InputError", data, err)
			}
			// An unknown field may be named "" ({"": 1}). Known gap, left
			// to the parser's owner: a file that is not a JSON object at
			// all ([], 1, "x") is refused with an empty Field. Every other
			// refusal must name its field.
			if ie.Field == "" && ie.Msg != "unknown field" {
				t.Fatalf("ParseScenario(%q): %#v names no field", data, err)
			}
			return
		}
		out, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("an accepted scenario does not marshal: %v", err)
		}
		sc2, err := ParseScenario(out)
		if err != nil {
			t.Fatalf("ParseScenario(%q) accepted, but refuses it written out again (%s): %v", data, out, err)
		}
		out2, _ := json.Marshal(sc2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the scenario:\n%s\n%s", out, out2)
		}
	})
}
