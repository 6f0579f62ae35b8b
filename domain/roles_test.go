package domain_test

import (
	"errors"
	"testing"

	"switchboard/domain"
)

func TestRolesAreOrdered(t *testing.T) {
	for i, r := range domain.Roles {
		for j, other := range domain.Roles {
			if got, want := r.AtLeast(other), i <= j; got != want {
				t.Errorf("%s.AtLeast(%s) = %v, want %v", r, other, got, want)
			}
		}
	}
	if domain.Role("root").AtLeast(domain.RoleViewer) {
		t.Error("an unknown role includes nothing")
	}
	if domain.RoleViewer.AtLeast("root") {
		t.Error("no role includes an unknown one")
	}
}

func TestParseRole(t *testing.T) {
	if r, err := domain.ParseRole("builder"); err != nil || r != domain.RoleBuilder {
		t.Fatalf("ParseRole(builder) = %q, %v", r, err)
	}
	_, err := domain.ParseRole("superuser")
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("ParseRole(superuser) error = %v, want ErrInvalid", err)
	}
}

func TestPageSize(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{0, 50}, {-3, 50}, {1, 1}, {500, 500}, {501, 500}} {
		if got := (domain.Page{Limit: c.limit}).Size(); got != c.want {
			t.Errorf("Page{Limit: %d}.Size() = %d, want %d", c.limit, got, c.want)
		}
	}
}
