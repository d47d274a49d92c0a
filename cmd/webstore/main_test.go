package main

import (
	"os"
	"testing"
)

// The commands under test run as `make run` runs them: WEBSTORE_ENV
// explicitly development (unset is production, which refuses to start
// without real providers). Tests of the production rules set it themselves.
func TestMain(m *testing.M) {
	os.Setenv("WEBSTORE_ENV", "development")
	os.Exit(m.Run())
}
