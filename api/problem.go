package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"

	"switchboard/domain"
	"switchboard/dsl"
)

// ProblemBase prefixes every problem `type`: the types are stable
// identifiers clients can branch on (urn:switchboard:problem:not-found).
const ProblemBase = "urn:switchboard:problem:"

// Problem types.
const (
	ProbBadRequest   = "bad-request"
	ProbValidation   = "validation"    // the request does not match the operation's schema
	ProbInvalidDSL   = "invalid-dsl"   // the workflow source does not compile; see diagnostics
	ProbInvalidInput = "invalid-input" // run input or form data does not match its schema
	ProbUnauthorized = "unauthorized"
	ProbForbidden    = "forbidden"
	ProbNotFound     = "not-found"
	ProbConflict     = "conflict"
	ProbNotDeployed  = "not-deployed"
	ProbIdempotency  = "idempotency-key-reused" // the key came with a different request
	ProbPrecondition = "precondition-failed"    // If-Match names a version that is no longer current
	ProbTransition   = "invalid-transition"     // the record's state does not allow the change
	ProbTooLarge     = "too-large"
	ProbUnsupported  = "unsupported-media-type"
	ProbUnavailable  = "unavailable" // a dependency (Temporal, the database) is down: retry
	ProbTimeout      = "timeout"
	ProbInternal     = "internal"
)

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type     string `json:"type" doc:"A stable URN identifying the kind of problem" example:"urn:switchboard:problem:not-found"`
	Title    string `json:"title" doc:"A short summary of the problem type"`
	Status   int    `json:"status" doc:"The HTTP status code"`
	Detail   string `json:"detail,omitempty" doc:"What went wrong this time"`
	Instance string `json:"instance,omitempty" doc:"The request path"`
	// Errors lists request validation problems (location and message).
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"Request validation problems"`
	// Diagnostics lists DSL compile problems with their positions.
	Diagnostics []dsl.Diagnostic `json:"diagnostics,omitempty" doc:"DSL problems, each with file, line and column"`
	// Retryable says the same request may succeed later.
	Retryable bool `json:"retryable,omitempty" doc:"The same request may succeed if retried later"`
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes the document application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

func problem(status int, typ, format string, args ...any) *Problem {
	return &Problem{Type: ProblemBase + typ, Title: http.StatusText(status), Status: status,
		Detail: fmt.Sprintf(format, args...)}
}

func init() {
	// huma's own errors (request validation, body too large, ...) become
	// Problems with stable types.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		typ := ProbBadRequest
		switch status {
		case http.StatusUnprocessableEntity:
			typ = ProbValidation
		case http.StatusRequestEntityTooLarge:
			typ = ProbTooLarge
		case http.StatusUnsupportedMediaType:
			typ = ProbUnsupported
		case http.StatusUnauthorized:
			typ = ProbUnauthorized
		case http.StatusForbidden:
			typ = ProbForbidden
		case http.StatusNotFound:
			typ = ProbNotFound
		case http.StatusConflict:
			typ = ProbConflict
		case http.StatusServiceUnavailable:
			typ = ProbUnavailable
		case http.StatusGatewayTimeout, http.StatusRequestTimeout:
			typ = ProbTimeout
		}
		if status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			typ = ProbInternal
		}
		p := problem(status, typ, "%s", msg)
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d huma.ErrorDetailer
			if errors.As(e, &d) {
				p.Errors = append(p.Errors, d.ErrorDetail())
			} else {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Message: e.Error()})
			}
		}
		if status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
			p.Retryable = true
		}
		return p
	}
}

// storeErr maps a store error to a problem; what names the object.
func storeErr(err error, what string) error {
	var ve *domain.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		p := problem(http.StatusUnprocessableEntity, ProbValidation, "the %s is not valid", ve.Record)
		where := "body."
		if strings.HasSuffix(ve.Record, "query") {
			where = "query."
		}
		for _, f := range ve.Fields {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: where + f.Field, Message: f.Message})
		}
		return p
	case errors.Is(err, domain.ErrInvalidTransition):
		return problem(http.StatusConflict, ProbTransition, "%s: %s", what, afterKind(err, domain.ErrInvalidTransition))
	case errors.Is(err, domain.ErrNotFound):
		return problem(http.StatusNotFound, ProbNotFound, "%s not found", what)
	case errors.Is(err, domain.ErrConflict):
		return problem(http.StatusConflict, ProbConflict, "%s already exists or changed concurrently: %s", what, conflictDetail(err))
	case errors.Is(err, domain.ErrInvalid):
		return problem(http.StatusBadRequest, ProbBadRequest, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		p := problem(http.StatusServiceUnavailable, ProbUnavailable, "the database did not answer in time")
		p.Retryable = true
		return p
	}
	return internal(err)
}

// afterKind is err's message after its kind's text ("invalid transition: ").
func afterKind(err, kind error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, kind.Error()+": "); ok {
		return rest
	}
	return msg
}

// conflictDetail is the store's reason for a conflict, without the
// driver's text (which can name tables and constraints).
func conflictDetail(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "version"):
		return "it was changed by someone else; read it again and retry"
	case strings.Contains(msg, "email"):
		return "the email is taken"
	}
	return "a unique value is taken"
}

// temporalErr maps a Temporal client error to a problem.
func temporalErr(err error, what string) error {
	var nf *serviceerror.NotFound
	var inv *serviceerror.InvalidArgument
	var unavail *serviceerror.Unavailable
	var dl *serviceerror.DeadlineExceeded
	var fp *serviceerror.FailedPrecondition
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return problem(http.StatusNotFound, ProbNotFound, "%s not found", what)
	case errors.As(err, &started):
		return problem(http.StatusConflict, ProbConflict, "%s is already running", what)
	case errors.As(err, &inv):
		return problem(http.StatusBadRequest, ProbBadRequest, "%s: %s", what, inv.Message)
	case errors.As(err, &fp):
		return problem(http.StatusConflict, ProbConflict, "%s: %s", what, fp.Message)
	case errors.As(err, &unavail), errors.As(err, &dl), errors.Is(err, context.DeadlineExceeded):
		p := problem(http.StatusServiceUnavailable, ProbUnavailable, "the workflow engine is unavailable; retry later")
		p.Retryable = true
		return p
	}
	if errors.Is(err, context.Canceled) {
		return problem(499, ProbTimeout, "the request was cancelled")
	}
	return internal(err)
}

// internal hides an unexpected error's text (it may name internals) and
// logs it.
func internal(err error) error {
	slog.Default().Error("api: internal error", "error", err)
	return problem(http.StatusInternalServerError, ProbInternal, "an internal error occurred")
}
