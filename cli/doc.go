// Package cli holds the `switchboard` command's subcommands (cobra). The
// main package in cmd/switchboard only calls Execute.
package cli
