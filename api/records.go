package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"switchboard/domain"
)

// Shared shapes of the business-record endpoints (customers, opportunities, ...).

// recordOut is a record with its ETag (its version, for If-Match).
type recordOut[T any] struct {
	ETag string `header:"ETag"`
	Body *T
}

// versioned is a record that has a version.
type versioned interface {
	domain.Customer | domain.Opportunity | domain.Quote | domain.Article | domain.Contract | domain.Ticket | domain.Campaign
}

func etag(version int) string { return strconv.Quote(strconv.Itoa(version)) }

func out[T versioned](rec *T, version int) *recordOut[T] {
	return &recordOut[T]{ETag: etag(version), Body: rec}
}

// idInput names a record in the path.
type idInput struct {
	ID string `path:"id" maxLength:"64"`
}

// patchInput is a conditional JSON merge patch of a record.
type patchInput struct {
	ID          string `path:"id" maxLength:"64"`
	IfMatch     string `header:"If-Match" doc:"The ETag read with the record: the change applies only to that version (else 412)"`
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"application/merge-patch+json" doc:"A JSON merge patch (RFC 7396) of the record's fields: members set fields, null clears them"`
}

// parse returns the If-Match version (0 when absent) and the patch.
func (in *patchInput) parse() (int, map[string]any, error) {
	version, err := ifMatch(in.IfMatch)
	if err != nil {
		return 0, nil, err
	}
	var patch map[string]any
	if err := json.Unmarshal(in.RawBody, &patch); err != nil || patch == nil {
		return 0, nil, problem(http.StatusBadRequest, ProbBadRequest, "the body must be a JSON object (a merge patch)")
	}
	return version, patch, nil
}

// ifMatch parses an If-Match header of one version ETag; 0 when absent.
func ifMatch(h string) (int, error) {
	h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "W/"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.Unquote(h)
	if err == nil {
		var n int
		if n, err = strconv.Atoi(v); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, problem(http.StatusBadRequest, ProbBadRequest, "If-Match must be one ETag of the record, such as \"3\"")
}

// recordErr maps an error of a conditional change: a version that moved on
// is 412 when the caller sent If-Match, else as storeErr.
func recordErr(err error, conditional bool, what string) error {
	if conditional && errors.Is(err, domain.ErrConflict) && strings.Contains(err.Error(), "is at version") {
		return problem(http.StatusPreconditionFailed, ProbPrecondition, "the %s changed since you read it (If-Match): read it again", what)
	}
	return storeErr(err, what)
}

// sortParam splits a `sort` query value: name, and whether it is reversed (-name).
func sortParam(s string) (string, bool) {
	return strings.TrimPrefix(s, "-"), strings.HasPrefix(s, "-")
}
