// Package devserver runs a real Temporal server inside the process, with
// SQLite persistence (a file in WAL mode, or memory), the way the Temporal
// CLI's development server does. It is the only package that links
// go.temporal.io/server: `switchboard dev`, the benchmarks and the replay
// history recorder use it; the API and worker binaries never do.
package devserver
