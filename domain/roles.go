package domain

import "fmt"

// Role is what an API key (or user) may do in its organisation. Roles are
// ordered: each includes everything the roles below it may do.
//
//	owner    everything, including managing owners and the organisation
//	admin    users, API keys, secrets, everything a builder may do
//	builder  create, change and deploy workflow definitions
//	operator start, signal, cancel and terminate runs; decide tasks
//	viewer   read definitions, runs, tasks and the outbox
type Role string

// The roles, highest first.
const (
	RoleOwner    Role = "owner"
	RoleAdmin    Role = "admin"
	RoleBuilder  Role = "builder"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Roles lists every role, highest first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleBuilder, RoleOperator, RoleViewer}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return len(Roles) - i
		}
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && min.Valid() && r.rank() >= min.rank() }

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%w: unknown role %q (want owner, admin, builder, operator or viewer)", ErrInvalid, s)
	}
	return r, nil
}
