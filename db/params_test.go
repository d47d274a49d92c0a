package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"webstore/db"
	"webstore/db/dbtest"
)

// TestBinaryParameters pins what lib/pq's binary_parameters=yes (db.Open's
// default) changes: a []byte argument travels in the binary format of its
// column's type. bytea and text take it as they did; jsonb refuses it (the
// store passes JSON as a string); times, strings and numbers are text
// either way and round-trip unchanged.
func TestBinaryParameters(t *testing.T) {
	d, _ := dbtest.New(t)
	ctx := context.Background()
	if db.PreparesStatements(d) {
		t.Fatal("db.Open prepares statements per connection by default, want off")
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE params (b bytea, t text, j jsonb, at timestamptz, d date)`); err != nil {
		t.Fatal(err)
	}
	raw := []byte{0, 1, 2, 0xff, '\\', 'x'}
	taipei := time.FixedZone("CST", 8*3600)
	at := time.Date(2024, 6, 30, 23, 59, 59, 123456000, taipei)
	day := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	if _, err := d.ExecContext(ctx, `INSERT INTO params VALUES ($1, $2, $3, $4, $5)`,
		raw, []byte("熊美"), `{"a": 1}`, at, day); err != nil {
		t.Fatal(err)
	}
	var got struct {
		B  []byte    `db:"b"`
		T  string    `db:"t"`
		J  string    `db:"j"`
		At time.Time `db:"at"`
		D  time.Time `db:"d"`
	}
	if err := d.GetContext(ctx, &got, `SELECT b, t, j::text AS j, at, d FROM params`); err != nil {
		t.Fatal(err)
	}
	if string(got.B) != string(raw) {
		t.Errorf("bytea from []byte = %q, want %q", got.B, raw)
	}
	if got.T != "熊美" {
		t.Errorf("text from []byte = %q, want 熊美", got.T)
	}
	if got.J != `{"a": 1}` {
		t.Errorf("jsonb from string = %q", got.J)
	}
	if !got.At.Equal(at) {
		t.Errorf("timestamptz = %s, want %s", got.At, at)
	}
	if !got.D.Equal(day) {
		t.Errorf("date = %s, want %s", got.D, day)
	}
	// The one behaviour that differs from lib/pq's default: JSON as []byte.
	_, err := d.ExecContext(ctx, `INSERT INTO params (j) VALUES ($1)`, []byte(`{"a": 1}`))
	if err == nil || !strings.Contains(err.Error(), "jsonb") {
		t.Errorf("jsonb from []byte: err = %v, want PostgreSQL refusing its binary form", err)
	}
	// A parameter compared by key, as the session and token look-ups are.
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM params WHERE b = $1`, raw); err != nil || n != 1 {
		t.Errorf("bytea key look-up: n = %d, err = %v, want 1 row", n, err)
	}
}

// TestPreparedStatementsSetting: prepared_statements in the URL is the
// app's own setting, taken out before lib/pq sees it; a wrong value is
// refused.
func TestPreparedStatementsSetting(t *testing.T) {
	_, dsn := dbtest.New(t)
	ctx := context.Background()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	d, err := db.Open(ctx, dsn+sep+"prepared_statements=per_connection")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !db.PreparesStatements(d) {
		t.Error("prepared_statements=per_connection: PreparesStatements = false")
	}
	var bin string
	if err := d.GetContext(ctx, &bin, `SELECT current_setting('TimeZone')`); err != nil || bin != "UTC" {
		t.Errorf("TimeZone = %q, %v; want UTC", bin, err)
	}
	if _, err := db.Open(ctx, dsn+sep+"prepared_statements=always"); err == nil || !strings.Contains(err.Error(), "prepared_statements") {
		t.Errorf("prepared_statements=always: err = %v, want it refused", err)
	}
}
