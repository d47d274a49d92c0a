package views

import (
	"encoding/json"
	"time"
)

// 稽核紀錄: the audit page and its rows (audit_log.go puts them in words).

// AuditRow is one line of the audit trail: its kind as recorded and in
// words, what happened in sentences (Lang.AuditSentences), and the record
// itself (Before and After, JSON texts, "" for none).
type AuditRow struct {
	At                     time.Time
	Actor, AccountID, Kind string
	KindLabel, ActorLabel  string
	Sentences              []string
	Before, After          string
}

// AuditView is the audit page.
type AuditView struct {
	Filter  [5]string // account, actor, kind, from, to (as typed)
	Entries []AuditRow
}

// PrettyJSON indents a JSON text for display; "" for none.
func PrettyJSON(s string) string {
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}
