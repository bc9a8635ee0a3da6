//go:build !unix

package layerfs

import "io/fs"

func statOwner(fs.FileInfo) ([2]int, bool) { return [2]int{}, false }
