package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Campaign types, statuses, and what is tracked of an enrollment.
var (
	CampaignTypes    = []string{"broadcast", "drip"}
	CampaignStatuses = []string{"draft", "active", "paused", "completed", "archived"}
	// CampaignMetrics are the steps of an enrollment's journey, counted per campaign.
	CampaignMetrics = []string{"sent", "delivered", "opened", "clicked", "converted", "unsubscribed"}
	// SuppressionReasons say why an address gets no campaign email.
	SuppressionReasons = []string{"unsubscribed", "bounced", "complained", "manual"}
)

// Campaign is a marketing campaign: an audience (a saved filter over
// customers), content (email templates with variables, one per step; a
// broadcast has one, a drip several with delays), a schedule, its
// enrollments and their metrics.
type Campaign struct {
	ID       string          `json:"id"`
	OrgID    string          `json:"-"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Status   string          `json:"status"`
	Audience Audience        `json:"audience"`
	Content  []EmailTemplate `json:"content"`
	// StartAt and EndAt bound when the campaign sends (UTC); optional.
	StartAt *time.Time `json:"startAt,omitempty"`
	EndAt   *time.Time `json:"endAt,omitempty"`
	// Metrics count the enrollments that reached each step: computed for
	// GET /v1/campaigns/{id} only (CampaignMetrics), never on the write path.
	Metrics   *CampaignCounts `json:"metrics,omitempty"`
	Version   int             `json:"version"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// CampaignCounts are a campaign's metrics.
type CampaignCounts struct {
	Enrolled     int `json:"enrolled"`
	Sent         int `json:"sent"`
	Delivered    int `json:"delivered"`
	Opened       int `json:"opened"`
	Clicked      int `json:"clicked"`
	Converted    int `json:"converted"`
	Unsubscribed int `json:"unsubscribed"`
}

// Audience is a saved filter over the organisation's customers (the
// fields of CustomerQuery that select, not those that page).
type Audience struct {
	Status  string `json:"status,omitempty"`
	Type    string `json:"type,omitempty"`
	OwnerID string `json:"ownerId,omitempty"`
	Source  string `json:"source,omitempty"`
	Tag     string `json:"tag,omitempty"`
	Search  string `json:"search,omitempty"`
}

// Query is the customer query of the audience.
func (a Audience) Query() CustomerQuery {
	return CustomerQuery{Status: a.Status, Type: a.Type, OwnerID: a.OwnerID, Source: a.Source, Tag: a.Tag, Search: a.Search}
}

// EmailTemplate is one email of a campaign: subject, HTML and text
// bodies with {{ variables }}, and for a drip step the days after the
// previous step (or the enrollment) it is due.
type EmailTemplate struct {
	Subject   string `json:"subject"`
	HTML      string `json:"html,omitempty"`
	Text      string `json:"text,omitempty"`
	DelayDays int    `json:"delayDays,omitempty"`
}

// TemplateVariables are the names an email template may use.
var TemplateVariables = []string{"customer.name", "customer.firstName", "customer.email", "customer.company", "customer.title",
	"campaign.name", "seller"}

// templateVar matches {{ name }} and {{ name | "fallback" }}.
var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|\s*"([^"{}]*)"\s*)?\}\}`)

// templateVarName: custom fields are customer.custom.<key>.
var customVar = regexp.MustCompile(`^customer\.custom\.[A-Za-z0-9_]{1,64}$`)

// TemplateVars lists the variables a text uses, and an error naming the
// first unknown one or a malformed {{.
func TemplateVars(text string) ([]string, error) {
	var names []string
	for _, m := range templateVar.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(TemplateVariables, m[1]) && !customVar.MatchString(m[1]) {
			return nil, fmt.Errorf("{{ %s }} is not a variable; use one of %s, or customer.custom.<field>", m[1], strings.Join(TemplateVariables, ", "))
		}
		names = append(names, m[1])
	}
	if rest := templateVar.ReplaceAllString(text, ""); strings.Contains(rest, "{{") {
		return nil, fmt.Errorf("a {{ is not closed as {{ variable }} or {{ variable | \"fallback\" }}")
	}
	return names, nil
}

// ExpandTemplate replaces each {{ variable }} of text with its value
// (vars), or the fallback when the value is empty; escape is applied to
// values (HTML escaping for HTML bodies), never to the template itself.
// Values are data: they are not expanded again.
func ExpandTemplate(text string, vars map[string]string, escape func(string) string) string {
	return templateVar.ReplaceAllStringFunc(text, func(m string) string {
		sub := templateVar.FindStringSubmatch(m)
		v := vars[sub[1]]
		if v == "" {
			v = sub[2]
		}
		if escape != nil {
			return escape(v)
		}
		return v
	})
}

// Normalize trims the name and sets draft.
func (c *Campaign) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	if c.Status == "" {
		c.Status = "draft"
	}
	if c.Type == "" {
		c.Type = "broadcast"
	}
	if c.Content == nil {
		c.Content = []EmailTemplate{}
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (c *Campaign) Validate() error {
	v := &fieldChecker{record: "campaign"}
	v.text("name", c.Name, 200, true)
	v.oneOf("type", c.Type, CampaignTypes)
	v.oneOf("status", c.Status, CampaignStatuses)
	if c.Audience.Status != "" {
		v.oneOf("audience.status", c.Audience.Status, CustomerStatuses)
	}
	if c.Audience.Type != "" {
		v.oneOf("audience.type", c.Audience.Type, CustomerTypes)
	}
	v.text("audience.search", c.Audience.Search, 200, false)
	if len(c.Content) > 50 {
		v.add("content", "has %d emails; at most 50", len(c.Content))
	}
	if c.Type == "broadcast" && len(c.Content) > 1 {
		v.add("content", "has %d emails; a broadcast sends one (a drip sends a sequence)", len(c.Content))
	}
	for i, e := range c.Content {
		at := fmt.Sprintf("content[%d].", i)
		v.text(at+"subject", e.Subject, 300, true)
		if e.HTML == "" && e.Text == "" {
			v.add(at+"text", "is required when there is no html")
		}
		if len(e.HTML) > 256<<10 || len(e.Text) > 256<<10 {
			v.add(at+"html", "is larger than 256 KiB")
		}
		if e.DelayDays < 0 || e.DelayDays > 365 {
			v.add(at+"delayDays", "is %d; want 0 to 365", e.DelayDays)
		}
		for field, text := range map[string]string{"subject": e.Subject, "html": e.HTML, "text": e.Text} {
			if _, err := TemplateVars(text); err != nil {
				v.add(at+field, "%v", err)
			}
		}
	}
	if c.StartAt != nil && c.EndAt != nil && !c.EndAt.After(*c.StartAt) {
		v.add("endAt", "is not after startAt")
	}
	slices.SortFunc(v.errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return v.err()
}

// CanMoveCampaign checks a status change: draft → active (with content)
// ↔ paused → completed → archived; a draft or paused campaign may be
// archived too; an archived campaign stays archived.
func CanMoveCampaign(c *Campaign, to string) error {
	allowed := map[string][]string{
		"draft":     {"active", "archived"},
		"active":    {"paused", "completed"},
		"paused":    {"active", "completed", "archived"},
		"completed": {"archived"},
	}
	switch {
	case !slices.Contains(CampaignStatuses, to):
		return &ValidationError{Record: "campaign", Fields: []FieldError{{Field: "status", Message: fmt.Sprintf("is %q; want one of %s", to, strings.Join(CampaignStatuses, ", "))}}}
	case !slices.Contains(allowed[c.Status], to):
		return fmt.Errorf("%w: a %s campaign does not become %s", ErrInvalidTransition, c.Status, to)
	case to == "active" && len(c.Content) == 0:
		return fmt.Errorf("%w: the campaign has no content to send", ErrInvalidTransition)
	}
	return nil
}

// Enrollment is a customer's place in a campaign.
type Enrollment struct {
	CampaignID string `json:"campaignId"`
	CustomerID string `json:"customerId"`
	// Status: active (going through the steps), completed, or exited.
	Status string `json:"status"`
	// Step is the next content step due (0-based).
	Step       int        `json:"step"`
	RunID      string     `json:"runId,omitempty"`
	EnrolledAt time.Time  `json:"enrolledAt"`
	Events     TrackTimes `json:"events"`
}

// TrackTimes are when an enrollment first reached each metric.
type TrackTimes struct {
	Sent         *time.Time `json:"sent,omitempty"`
	Delivered    *time.Time `json:"delivered,omitempty"`
	Opened       *time.Time `json:"opened,omitempty"`
	Clicked      *time.Time `json:"clicked,omitempty"`
	Converted    *time.Time `json:"converted,omitempty"`
	Unsubscribed *time.Time `json:"unsubscribed,omitempty"`
}

// Suppression is an address that gets no campaign email in an organisation.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source,omitempty"` // the campaign, or who added it
	CreatedAt time.Time `json:"createdAt"`
}

// CampaignQuery selects campaigns, newest first.
type CampaignQuery struct {
	Status, Type string
	After        string
	Limit        int
}

// CampaignRepo keeps campaigns, enrollments and the suppression list (part of Repo).
type CampaignRepo interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	// GetCampaign reads a campaign (without metrics).
	GetCampaign(ctx context.Context, orgID, id string) (*Campaign, error)
	// CampaignMetrics counts the campaign's enrollments that reached each step.
	CampaignMetrics(ctx context.Context, orgID, id string) (*CampaignCounts, error)
	// UpdateCampaign saves c when its stored version is c.Version (else ErrConflict).
	UpdateCampaign(ctx context.Context, c *Campaign) error
	ListCampaigns(ctx context.Context, orgID string, q CampaignQuery) ([]Campaign, string, error)

	// Enroll enrolls customers (ids) in a campaign, skipping those already
	// enrolled and those whose email is suppressed; it returns how many it enrolled.
	Enroll(ctx context.Context, orgID, campaignID string, customerIDs []string, runID string) (int, error)
	GetEnrollment(ctx context.Context, orgID, campaignID, customerID string) (*Enrollment, error)
	// UpdateEnrollment saves the status and step of e.
	UpdateEnrollment(ctx context.Context, orgID string, e *Enrollment) error
	// TrackEnrollment records the first time an enrollment reached metric
	// (one of CampaignMetrics) and says whether this was the first.
	TrackEnrollment(ctx context.Context, orgID, campaignID, customerID, metric string, at time.Time) (bool, error)
	// ListEnrollments lists a campaign's enrollments by customer id.
	ListEnrollments(ctx context.Context, orgID, campaignID string, p Page) ([]Enrollment, error)

	// Suppress adds an address (lower-cased) to the suppression list; an
	// address already there keeps its first reason.
	Suppress(ctx context.Context, orgID string, s *Suppression) error
	GetSuppression(ctx context.Context, orgID, email string) (*Suppression, error)
	DeleteSuppression(ctx context.Context, orgID, email string) error
	ListSuppressions(ctx context.Context, orgID string, p Page) ([]Suppression, error)
}
