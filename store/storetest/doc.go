// Package storetest is the conformance suite for domain.Store: every
// backend of the store package (and any other implementation) runs Run and
// must pass all of it.
package storetest
