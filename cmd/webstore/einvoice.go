package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"webstore/billing"
	"webstore/db"
)

const einvoiceUsage = `einvoice numbers import FILE | einvoice export --dir DIR

  numbers import FILE   import the e-invoice platform's number ranges: a CSV
                        with the header year_month,track,begin,end (e.g.
                        11512,AB,12345600,12345649); waiting invoices are
                        issued at once
  export --dir DIR      write every MIG message not yet written as
                        DIR/<type>/<number>.xml for Turnkey (each once,
                        atomically), first the blank-number reports (E0402)
                        of periods that have ended; prints what it wrote`

// cmdEInvoice is `webstore einvoice`.
func cmdEInvoice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 2 && args[0] == "numbers" && args[1] == "import":
		return cmdImportNumbers(ctx, args[2:], stdout, stderr)
	case len(args) >= 1 && args[0] == "export":
		return cmdExport(ctx, args[1:], stdout, stderr)
	case len(args) >= 1 && (args[0] == "-h" || args[0] == "--help"):
		fmt.Fprintf(stderr, "Usage: webstore %s\n", einvoiceUsage)
		return flag.ErrHelp
	}
	return usageError{fmt.Errorf("want: %s", einvoiceUsage)}
}

func cmdImportNumbers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("einvoice numbers import", "einvoice numbers import FILE", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("want one CSV file")}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	ranges, err := billing.ParseBooks(f)
	if err != nil {
		return usageError{err}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	res, err := s.ImportBooks(ctx, "system:cli", ranges)
	if billing.ErrorCode(err) == billing.EInvalid {
		return usageError{err}
	} else if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("einvoice export", "einvoice export --dir DIR", stderr)
	dir := fs.String("dir", "", "the Turnkey folder to write into (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{errors.New("--dir is required")}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	n, err := exportMessages(ctx, s, *dir, stdout)
	fmt.Fprintf(stderr, "wrote %d message(s) to %s\n", n, *dir)
	return err
}

// exportMessages writes every message not yet written as
// dir/<type>/<name>.xml and records it written, after keeping the blank
// reports of periods that have ended. Each file is written to a temporary
// name and renamed, so Turnkey never reads half a file; one already in
// place with the same content (a run killed after the rename) is recorded,
// not written again. Exports into one folder run one at a time (a lock
// file). It prints each path written to out.
func exportMessages(ctx context.Context, s *db.Store, dir string, out io.Writer) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".webstore-export.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return 0, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := s.ReportBlanks(ctx, "system:einvoice"); err != nil {
		return 0, err
	}
	written := 0
	for {
		ms, err := s.UnwrittenMessages(ctx, 500)
		if err != nil || len(ms) == 0 {
			return written, err
		}
		for _, m := range ms {
			path := filepath.Join(dir, m.Type, m.Name+".xml")
			wrote, err := writeOnce(path, []byte(m.Body))
			if err != nil {
				return written, err
			}
			if err := s.MarkMessageWritten(ctx, m.ID); err != nil {
				return written, err
			}
			if wrote {
				written++
				fmt.Fprintln(out, path)
			}
		}
	}
}

// writeOnce writes body to path through a temporary file in the same
// folder, synced and renamed. It reports false, writing nothing, when path
// already holds body, and refuses to overwrite other content.
func writeOnce(path string, body []byte) (bool, error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, body):
		return false, nil
	case err == nil:
		return false, fmt.Errorf("%s is already there with other content: not overwritten", path)
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return true, err
	}
	defer d.Close()
	return true, d.Sync()
}
