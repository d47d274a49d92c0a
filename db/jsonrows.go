package db

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// Rows nested in a page's one statement arrive as JSON (json_agg,
// row_to_json) and decode into the store's own types, by their json tags.
// PostgreSQL writes timestamptz in JSON as RFC 3339, bigint as a number
// (decoded into int64 exactly) and NULL as null; a DATE it would write as
// YYYY-MM-DD, which time.Time does not decode, so the statements write it
// as its midnight in UTC (to_char(d, 'YYYY-MM-DD"T00:00:00Z"')).

// jsonList scans a JSON array (NULL: empty).
type jsonList[T any] []T

func (l *jsonList[T]) Scan(src any) error {
	*l = nil
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		return err
	}
	return json.Unmarshal(b, (*[]T)(l))
}

// jsonValue scans a JSON object, Valid false on NULL.
type jsonValue[T any] struct {
	V     T
	Valid bool
}

func (v *jsonValue[T]) Scan(src any) error {
	*v = jsonValue[T]{}
	b, err := jsonBytes(src)
	if err != nil || b == nil {
		return err
	}
	v.Valid = true
	return json.Unmarshal(b, &v.V)
}

func jsonBytes(src any) ([]byte, error) {
	switch s := src.(type) {
	case nil:
		return nil, nil
	case []byte:
		return s, nil
	case string:
		return []byte(s), nil
	}
	return nil, fmt.Errorf("db: cannot scan %T as JSON", src)
}

// NullTime, NullInt64 and NullString are the sql.Null types of the store's
// row types, which scan a column as those do and also decode the JSON
// PostgreSQL writes for the column (null, or the value). They encode as the
// sql.Null types always have ({"Time": ..., "Valid": ...}): the audit log
// keeps charges in that form.
type (
	NullTime   struct{ sql.NullTime }
	NullInt64  struct{ sql.NullInt64 }
	NullString struct{ sql.NullString }
)

func (n *NullTime) UnmarshalJSON(b []byte) error {
	return unmarshalNull(b, &n.Time, &n.Valid)
}

func (n *NullInt64) UnmarshalJSON(b []byte) error {
	return unmarshalNull(b, &n.Int64, &n.Valid)
}

func (n *NullString) UnmarshalJSON(b []byte) error {
	return unmarshalNull(b, &n.String, &n.Valid)
}

// unmarshalNull decodes b into v, valid false (and v zero) when b is null.
func unmarshalNull[T any](b []byte, v *T, valid *bool) error {
	var p *T
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*valid = p != nil
	if p == nil {
		var zero T
		*v = zero
		return nil
	}
	*v = *p
	return nil
}
