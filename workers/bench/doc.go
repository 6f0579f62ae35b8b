// Package bench measures the interpreter against hand-written Go
// workflows doing the same work, on a real embedded Temporal server
// (SQLite in memory, same process): `make bench`. Results and ratios are
// recorded in docs/benchmarks.md.
package bench
