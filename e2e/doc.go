// Package e2e holds end-to-end tests: real root file systems and the shared
// fixture apps packed into real image layouts, scanned through the whole
// scan.Service, checked against the real tools (dpkg-query) as oracles.
package e2e
