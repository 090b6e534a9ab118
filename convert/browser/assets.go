package browser

import (
	"embed"
	"errors"
	"io/fs"
)

// The page's built files, embedded from a directory so that a fresh
// clone, where only dist/README.md exists, compiles; a missing build is
// reported when a site is written.
//
//go:embed dist
var dist embed.FS

// assetNames are the built files every site gets, as in dist.
var assetNames = []string{"index.html", "c2w-page.js", "c2w-worker.js", "c2w.css", "THIRD-PARTY-LICENSES.txt"}

// errNoAssets explains a c2w built without the page.
var errNoAssets = errors.New("this c2w was built without the browser page (convert/browser/dist): build c2w with `make`, which bundles convert/browser/web first")

// asset returns a built file.
func asset(name string) ([]byte, error) {
	b, err := dist.ReadFile("dist/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoAssets
	}
	return b, err
}
