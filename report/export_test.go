package report

// DecodeLimit exposes decode with a chosen size cap to the tests.
var DecodeLimit = decode
