//go:build !race

package vulndb

const raceEnabled = false
