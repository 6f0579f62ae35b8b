// Package platform wires the worker of the Switchboard platform: the
// interpreter workflow, the connector activities of the catalog, and the
// activity that resolves child workflows from the store (the live
// revision, or a pinned one, of the run's organisation). It links only
// the Temporal SDK; `switchboard dev` and the thin `switchboard-worker`
// binary both use it.
package platform
