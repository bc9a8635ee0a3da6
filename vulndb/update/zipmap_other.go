//go:build !unix

package update

import "os"

// mapFile does not map files on this platform: members are read through
// archive/zip.
const mapSupported = false

func mapFile(*os.File, int64) ([]byte, func() error, error) { return nil, nil, nil }
