package sim_test

import (
	"testing"

	"webstore/sim"
)

func TestMalformedScenarios(t *testing.T) {
	for _, c := range []struct{ json, field string }{
		{`{"name": 3}`, "name"},
		{`{"accounts": [{"id": "a", "region": "TW", "plan": "gold"}]}`, "accounts[0].plan"},
		{`{"accounts": [{"id": "a", "region": "TW", "plan": "light", "payment_method": "cash"}]}`, "accounts[0].payment_method"},
		{`{"accounts": [{"id": "a", "region": "TW", "plan": "light"}], "events": [{"at": "2024-06-11 10:00", "do": "renew"}]}`, "events[0].at"},
		{`{"events": [{"at": "2024-06-11T10:00:00+08:00", "do": "fly"}]}`, "events[0].do"},
		{`{"events": [{"at": "2024-06-11T10:00:00+08:00", "do": "upgrade", "account": "ghost", "plan": "high"}]}`, "events[0].account"},
		{`{"events": [{"at": "2024-06-11T10:00:00+08:00", "do": "renew"}, {"at": "2024-06-10T10:00:00+08:00", "do": "renew"}]}`, "events[1].at"},
		{`{"campaigns": [{"id": "c", "face_value": 800, "valid_from": "2024-06-07T00:00:00+08:00", "valid_until": "2024-06-01T00:00:00+08:00"}]}`, "campaigns[0].valid_until"},
		{`{"bogus": 1}`, "bogus"},
		{`{"events": [`, "(file)"},
	} {
		_, err := sim.ParseScenario([]byte(c.json))
		ie, ok := err.(*sim.InputError)
		if !ok || ie.Field != c.field {
			t.Errorf("%s: got %v, want an InputError naming %s", c.json, err, c.field)
		}
	}
}

// A file that is not one scenario object is refused, naming the file.
func TestScenarioFileShape(t *testing.T) {
	for _, data := range []string{`[]`, `1`, `{"name": "a"} {"name": "b"}`, `{"name": "a"} x`} {
		_, err := sim.ParseScenario([]byte(data))
		ie, ok := err.(*sim.InputError)
		if !ok || ie.Field != "(file)" {
			t.Errorf("%s: got %v, want an InputError naming (file)", data, err)
		}
	}
}
