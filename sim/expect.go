package sim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// How a scenario's expectations are checked: each field listed, and only
// those, must equal the result's (SCENARIOS.md, "expect").

// compareAccounts checks the listed fields of each expected final account.
func compareAccounts(want []map[string]json.RawMessage, got []Final) []string {
	var out []string
	for i, w := range want {
		var id string
		json.Unmarshal(w["id"], &id)
		for _, g := range got {
			if g.ID == id {
				for _, m := range compareFields(w, g) {
					out = append(out, fmt.Sprintf("expect_accounts[%d] (%s).%s", i, id, m))
				}
			}
		}
	}
	return out
}

// compareExpect checks the listed fields of expect against the result.
func compareExpect(raw json.RawMessage, res Result) []string {
	if len(raw) == 0 {
		return nil
	}
	var x expectation
	if err := json.Unmarshal(raw, &x); err != nil {
		return []string{"expect: " + err.Error()}
	}
	var out []string
	if x.OK != nil && *x.OK != res.OK {
		out = append(out, fmt.Sprintf("ok: got %v, want %v (error %q)", res.OK, *x.OK, res.Error))
	}
	if x.Error != nil && *x.Error != res.Error {
		out = append(out, fmt.Sprintf("error: got %q, want %q", res.Error, *x.Error))
	}
	if x.Charges != nil {
		want := *x.Charges
		if len(want) != len(res.Charges) {
			out = append(out, fmt.Sprintf("charges: got %d, want %d", len(res.Charges), len(want)))
		}
		for i := 0; i < len(want) && i < len(res.Charges); i++ {
			for _, m := range compareFields(want[i], res.Charges[i]) {
				out = append(out, fmt.Sprintf("charges[%d].%s", i, m))
			}
		}
	}
	return out
}

// compareFields compares each field listed in want with the same field of
// got's JSON form.
func compareFields(want map[string]json.RawMessage, got any) []string {
	gotJSON, _ := json.Marshal(got)
	var g map[string]json.RawMessage
	json.Unmarshal(gotJSON, &g)
	var out []string
	for field, w := range want {
		gv, ok := g[field]
		if !ok {
			out = append(out, field+": no such field")
			continue
		}
		var a, b any
		json.Unmarshal(gv, &a)
		json.Unmarshal(w, &b)
		if !reflect.DeepEqual(a, b) {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", field, gv, w))
		}
	}
	sort.Strings(out)
	return out
}
