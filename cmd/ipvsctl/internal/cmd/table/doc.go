// Package table implements the ipvsctl commands that work on the service
// table as a whole, in a --scope: list and get, stats and top, save (read
// it and print it), and flush and zero (clear it, or its counters, with
// one request).
package table
