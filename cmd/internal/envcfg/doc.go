// Package envcfg reads the configuration of the production binaries
// (switchboard-api, switchboard-worker) from the environment, opens what
// it names (the store, the Temporal client, the master keyring), and
// serves their HTTP endpoints with a graceful shutdown.
package envcfg
