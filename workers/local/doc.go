// Package local runs a compiled plan to completion in-process, in the
// Temporal SDK's test environment with time skipping: a `wait: 30d` takes
// milliseconds. It is what `switchboard run` (and workflow tests) use.
//
// Actions run for real unless mocked; child workflows resolve from the
// plans given; signals and approval decisions are delivered at offsets of
// simulated time. Continue-as-new is followed transparently, with an
// estimate of the history length standing in for the server's count.
package local
