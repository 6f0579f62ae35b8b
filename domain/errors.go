package domain

import "errors"

// Errors the store translates its drivers' errors into, at the boundary.
var (
	// ErrNotFound: no such record in this organisation.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is taken, or the record changed underneath.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the record breaks a rule (checked before it is written).
	ErrInvalid = errors.New("invalid")
	// ErrInvalidTransition: the record's state does not allow the change
	// (accepting an expired quote, signing a void contract, ...).
	ErrInvalidTransition = errors.New("invalid transition")
)
