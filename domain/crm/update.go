package crm

import (
	"context"

	"switchboard/domain"
)

// editable describes how a record type is read, edited and saved by
// updateRecord.
type editable[T any] struct {
	kind    string // "customer": the audit action is <kind>.update, the target <kind>/<id>
	get     func(tx domain.Repo) (*T, error)
	save    func(tx domain.Repo, rec *T) error
	version func(rec *T) int
	// keep restores what an edit may not change (id, organisation,
	// version, times, server-owned fields) on after from before, and
	// normalises it.
	keep func(before, after *T)
	// check runs before the edit (a state that allows no edit) and, with
	// the changed fields, after it (owners, schemas, stage rules); either
	// may be nil.
	allow func(before *T) error
	check func(tx domain.Repo, after *T, changes []string) error
	// events are the events of a change (changes is never empty).
	events func(before, after *T, changes []string) []*domain.Event
}

// updateRecord is the one way records change: read it, check the
// version, apply edit, restore what may not change, and — when something
// did change — check, save, emit the events and audit the change; an edit
// that changes nothing saves and emits nothing (but is audited).
func updateRecord[T any](ctx context.Context, s *Service, actor Actor, orgID, id string, version int, edit func(*T) error, e editable[T]) (*T, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*T, []*domain.Event, *domain.AuditEntry, error) {
		before, err := e.get(tx)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := checkVersion(e.kind, id, e.version(before), version); err != nil {
			return nil, nil, nil, err
		}
		if e.allow != nil {
			if err := e.allow(before); err != nil {
				return nil, nil, nil, err
			}
		}
		after := clone(before)
		if err := edit(after); err != nil {
			return nil, nil, nil, err
		}
		e.keep(before, after)
		changes := changedFields(before, after)
		audit := &domain.AuditEntry{Action: e.kind + ".update", Target: e.kind + "/" + id,
			Details: details(map[string]any{"changes": cmpOr(changes, []string{})})}
		if len(changes) == 0 {
			return before, nil, audit, nil
		}
		if e.check != nil {
			if err := e.check(tx, after, changes); err != nil {
				return nil, nil, nil, err
			}
		}
		if err := e.save(tx, after); err != nil {
			return nil, nil, nil, err
		}
		return after, e.events(before, after, changes), audit, nil
	})
}
