// Package static holds the CSS, icons and the few scripts, embedded in the
// binary and served with a content hash in their URL so they can be cached
// for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed *.css *.js *.svg
var FS embed.FS

var hashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		out[p] = hex.EncodeToString(h[:4])
		return nil
	})
	return out
})

// Path is the cache-busted URL of an embedded file, e.g. /static/app.css?v=1a2b3c4d.
func Path(name string) string {
	return "/static/" + name + "?v=" + hashes()[name]
}
