package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"switchboard/domain"
)

// CampaignEvent is the data of campaign.* events.
type CampaignEvent struct {
	Campaign *domain.Campaign `json:"campaign"`
	Changes  []string         `json:"changes,omitempty"`
	From     string           `json:"from,omitempty"`
	To       string           `json:"to,omitempty"`
	// CustomerID is the enrollment a tracking event is about
	// (campaign.sent, .opened, ...); CustomerIDs the ids an enrollment was
	// asked for (campaign.enrolled, when at most 100), Count how many it added.
	CustomerID  string   `json:"customerId,omitempty"`
	CustomerIDs []string `json:"customerIds,omitempty"`
	Count       int      `json:"count,omitempty"`
	Actor       Actor    `json:"actor"`
}

// eventCampaign is a campaign as events carry it: without its content.
func eventCampaign(c *domain.Campaign) *domain.Campaign {
	v := *c
	v.Content = nil
	return &v
}

func campaignEvent(typ string, c *domain.Campaign, e CampaignEvent) *domain.Event {
	e.Campaign = eventCampaign(c)
	return event(typ, e)
}

// CreateCampaign creates a draft campaign (campaign.created).
func (s *Service) CreateCampaign(ctx context.Context, actor Actor, c *domain.Campaign) (*domain.Campaign, error) {
	return change(ctx, s, c.OrgID, actor, func(tx domain.Repo) (*domain.Campaign, []*domain.Event, *domain.AuditEntry, error) {
		c.Status = "draft"
		if err := checkUser(ctx, tx, c.OrgID, "campaign", "audience.ownerId", c.Audience.OwnerID); err != nil {
			return nil, nil, nil, err
		}
		if err := tx.CreateCampaign(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return c, []*domain.Event{campaignEvent("campaign.created", c, CampaignEvent{Actor: actor})},
			&domain.AuditEntry{Action: "campaign.create", Target: "campaign/" + c.ID}, nil
	})
}

// UpdateCampaign changes a campaign's name, type, audience, content or
// schedule; a completed or archived campaign does not change
// (InvalidTransition). The status changes with MoveCampaign. Emits
// campaign.updated.
func (s *Service) UpdateCampaign(ctx context.Context, actor Actor, orgID, id string, version int, edit func(*domain.Campaign) error) (*domain.Campaign, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Campaign]{
		kind:    "campaign",
		get:     func(tx domain.Repo) (*domain.Campaign, error) { return tx.GetCampaign(ctx, orgID, id) },
		save:    func(tx domain.Repo, c *domain.Campaign) error { return tx.UpdateCampaign(ctx, c) },
		version: func(c *domain.Campaign) int { return c.Version },
		allow: func(c *domain.Campaign) error {
			if c.Status == "completed" || c.Status == "archived" {
				return fmt.Errorf("%w: the campaign is %s", domain.ErrInvalidTransition, c.Status)
			}
			return nil
		},
		keep: func(before, c *domain.Campaign) {
			c.ID, c.OrgID, c.Version, c.CreatedAt, c.Status, c.Metrics = before.ID, before.OrgID, before.Version, before.CreatedAt, before.Status, nil
			c.Normalize()
		},
		check: func(tx domain.Repo, c *domain.Campaign, _ []string) error {
			if len(c.Content) == 0 && (c.Status == "active" || c.Status == "paused") {
				return &domain.ValidationError{Record: "campaign", Fields: []domain.FieldError{{Field: "content", Message: "is empty; an active or paused campaign keeps its emails"}}}
			}
			return checkUser(ctx, tx, orgID, "campaign", "audience.ownerId", c.Audience.OwnerID)
		},
		events: func(_, c *domain.Campaign, changes []string) []*domain.Event {
			return []*domain.Event{campaignEvent("campaign.updated", c, CampaignEvent{Changes: changes, Actor: actor})}
		},
	})
}

// MoveCampaign changes a campaign's status (domain.CanMoveCampaign) and
// emits campaign.status_changed.
func (s *Service) MoveCampaign(ctx context.Context, actor Actor, orgID, id, to string, version int) (*domain.Campaign, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Campaign, []*domain.Event, *domain.AuditEntry, error) {
		c, err := tx.GetCampaign(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := checkVersion("campaign", id, c.Version, version); err != nil {
			return nil, nil, nil, err
		}
		from := c.Status
		if err := domain.CanMoveCampaign(c, to); err != nil {
			return nil, nil, nil, err
		}
		c.Status = to
		if err := tx.UpdateCampaign(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return c, []*domain.Event{campaignEvent("campaign.status_changed", c, CampaignEvent{From: from, To: to, Actor: actor})},
			&domain.AuditEntry{Action: "campaign.status", Target: "campaign/" + id, Details: details(map[string]any{"from": from, "to": to})}, nil
	})
}

// Enrolled says how many customers an enrollment added.
type Enrolled struct {
	Enrolled int `json:"enrolled"`
	// Considered is how many customers were asked for (or matched the audience).
	Considered int `json:"considered"`
}

func activeCampaign(ctx context.Context, r domain.Repo, orgID, id string) (*domain.Campaign, error) {
	c, err := r.GetCampaign(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if c.Status != "active" {
		return nil, fmt.Errorf("%w: the campaign is %s; customers join an active campaign", domain.ErrInvalidTransition, c.Status)
	}
	return c, nil
}

// Enroll adds customers to an active campaign, skipping those already in
// it, those of other organisations and those whose address is suppressed.
// Emits campaign.enrolled when it added any.
func (s *Service) Enroll(ctx context.Context, actor Actor, orgID, id string, customerIDs []string) (*Enrolled, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*Enrolled, []*domain.Event, *domain.AuditEntry, error) {
		c, err := activeCampaign(ctx, tx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		n, err := tx.Enroll(ctx, orgID, id, customerIDs, runOf(actor))
		if err != nil {
			return nil, nil, nil, err
		}
		out := &Enrolled{Enrolled: n, Considered: len(customerIDs)}
		var events []*domain.Event
		if n > 0 {
			ev := CampaignEvent{Count: n, Actor: actor}
			if len(customerIDs) <= 100 {
				ev.CustomerIDs = customerIDs
			}
			events = append(events, campaignEvent("campaign.enrolled", c, ev))
		}
		return out, events, &domain.AuditEntry{Action: "campaign.enroll", Target: "campaign/" + id, Details: details(out)}, nil
	})
}

// EnrollAudience enrolls every customer the campaign's audience matches,
// a page of 500 per transaction (a page enrolled stays enrolled if a later
// one fails; running it again completes it, as enrollments are unique),
// then emits one campaign.enrolled with the count.
func (s *Service) EnrollAudience(ctx context.Context, actor Actor, orgID, id string) (*Enrolled, error) {
	c, err := activeCampaign(ctx, s.Store, orgID, id)
	if err != nil {
		return nil, err
	}
	total := &Enrolled{}
	q := c.Audience.Query()
	q.Limit = 500
	for {
		cs, next, err := s.Store.ListCustomers(ctx, orgID, q)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(cs))
		for i, cu := range cs {
			ids[i] = cu.ID
		}
		n, err := s.Store.Enroll(ctx, orgID, id, ids, runOf(actor))
		if err != nil {
			return nil, err
		}
		total.Enrolled += n
		total.Considered += len(ids)
		if next == "" {
			break
		}
		q.After = next
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*Enrolled, []*domain.Event, *domain.AuditEntry, error) {
		var events []*domain.Event
		if total.Enrolled > 0 {
			events = append(events, campaignEvent("campaign.enrolled", c, CampaignEvent{Count: total.Enrolled, Actor: actor}))
		}
		return total, events, &domain.AuditEntry{Action: "campaign.enroll_audience", Target: "campaign/" + id, Details: details(total)}, nil
	})
}

// Track records that an enrollment reached a metric (sent, delivered,
// opened, clicked, converted, unsubscribed) and, the first time, emits
// campaign.<metric>. Unsubscribing also suppresses the customer's address
// (reason unsubscribed) and ends the enrollment (exited). It says whether
// this was the first time.
func (s *Service) Track(ctx context.Context, actor Actor, orgID, id, customerID, metric string) (bool, error) {
	// read outside the change: tracking does not lock the campaign, so the
	// opens and clicks of one campaign's emails are recorded side by side
	c, err := s.Store.GetCampaign(ctx, orgID, id)
	if err != nil {
		return false, err
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (bool, []*domain.Event, *domain.AuditEntry, error) {
		var cust *domain.Customer
		if metric == "unsubscribed" {
			// the customer before the enrollment, the order deleting a customer locks them in
			if cust, err = tx.GetCustomer(ctx, orgID, customerID); err != nil {
				return false, nil, nil, err
			}
		}
		first, err := tx.TrackEnrollment(ctx, orgID, id, customerID, metric, time.Now())
		if errors.Is(err, domain.ErrInvalid) {
			return false, nil, nil, &domain.ValidationError{Record: "tracking", Fields: []domain.FieldError{{Field: "event",
				Message: fmt.Sprintf("is %q; want one of %s", metric, strings.Join(domain.CampaignMetrics, ", "))}}}
		}
		if err != nil || !first {
			return false, nil, &domain.AuditEntry{Action: "campaign.track", Target: "campaign/" + id}, err
		}
		if cust != nil {
			if cust.Email != "" {
				if err := tx.Suppress(ctx, orgID, &domain.Suppression{Email: cust.Email, Reason: "unsubscribed", Source: "campaign/" + id}); err != nil {
					return false, nil, nil, err
				}
			}
			e, err := tx.GetEnrollment(ctx, orgID, id, customerID)
			if err != nil {
				return false, nil, nil, err
			}
			e.Status = "exited"
			if err := tx.UpdateEnrollment(ctx, orgID, e); err != nil {
				return false, nil, nil, err
			}
		}
		return true, []*domain.Event{campaignEvent("campaign."+metric, c, CampaignEvent{CustomerID: customerID, Actor: actor})},
			&domain.AuditEntry{Action: "campaign.track", Target: "campaign/" + id, Details: details(map[string]any{"customer": customerID, "event": metric})}, nil
	})
}

// Suppress adds an address to the organisation's suppression list (audited;
// emits suppression.added when it was not there).
func (s *Service) Suppress(ctx context.Context, actor Actor, orgID string, x *domain.Suppression) (*domain.Suppression, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Suppression, []*domain.Event, *domain.AuditEntry, error) {
		if x.Source == "" {
			x.Source = string(actor)
		}
		x.Email = strings.ToLower(strings.TrimSpace(x.Email))
		if !domain.IsEmail(x.Email) {
			return nil, nil, nil, &domain.ValidationError{Record: "suppression", Fields: []domain.FieldError{{Field: "email", Message: "is not an email address"}}}
		}
		_, err := tx.GetSuppression(ctx, orgID, x.Email)
		existed := err == nil
		if err := tx.Suppress(ctx, orgID, x); err != nil {
			return nil, nil, nil, err
		}
		got, err := tx.GetSuppression(ctx, orgID, x.Email)
		if err != nil {
			return nil, nil, nil, err
		}
		var events []*domain.Event
		if !existed {
			events = append(events, event("suppression.added", map[string]any{"suppression": got, "actor": actor}))
		}
		return got, events, &domain.AuditEntry{Action: "suppression.add", Target: "suppression/" + got.Email}, nil
	})
}

// Unsuppress removes an address from the suppression list (audited).
func (s *Service) Unsuppress(ctx context.Context, actor Actor, orgID, email string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (struct{}, []*domain.Event, *domain.AuditEntry, error) {
		return struct{}{}, nil, &domain.AuditEntry{Action: "suppression.delete", Target: "suppression/" + strings.ToLower(email)},
			tx.DeleteSuppression(ctx, orgID, email)
	})
	return err
}

// Email is a campaign email rendered for one customer.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	HTML    string `json:"html,omitempty"`
	Text    string `json:"text,omitempty"`
	// Step is the content step rendered; Suppressed says the address must
	// not be sent to — it is on the suppression list, or the customer left
	// the campaign (To is still given, the bodies are not).
	Step       int  `json:"step"`
	Suppressed bool `json:"suppressed"`
}

// RenderEmail renders step of a campaign's content for a customer:
// {{ variables }} replaced by the customer's data (escaped in HTML, never
// evaluated). A customer without an email, or not enrolled, is a
// validation error; a suppressed address renders nothing (Suppressed).
func (s *Service) RenderEmail(ctx context.Context, orgID, id, customerID string, step int) (*Email, error) {
	c, err := s.Store.GetCampaign(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if step < 0 || step >= len(c.Content) {
		return nil, &domain.ValidationError{Record: "email", Fields: []domain.FieldError{{Field: "step", Message: fmt.Sprintf("is %d; the campaign has %d emails", step, len(c.Content))}}}
	}
	enr, err := s.Store.GetEnrollment(ctx, orgID, id, customerID)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, &domain.ValidationError{Record: "email", Fields: []domain.FieldError{{Field: "customerId", Message: "is not enrolled in the campaign"}}}
		}
		return nil, err
	}
	cust, err := s.Store.GetCustomer(ctx, orgID, customerID)
	if err != nil {
		return nil, err
	}
	if cust.Email == "" {
		return nil, &domain.ValidationError{Record: "email", Fields: []domain.FieldError{{Field: "customerId", Message: "the customer has no email address"}}}
	}
	out := &Email{To: cust.Email, Step: step}
	if enr.Status == "exited" {
		out.Suppressed = true // the customer left the campaign (unsubscribed)
		return out, nil
	}
	if _, err := s.Store.GetSuppression(ctx, orgID, cust.Email); err == nil {
		out.Suppressed = true
		return out, nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	seller := ""
	if o, err := s.Store.GetOrg(ctx, orgID); err == nil {
		seller = o.Name
	}
	first, _, _ := strings.Cut(cust.Name, " ")
	vars := map[string]string{"customer.name": cust.Name, "customer.firstName": first, "customer.email": cust.Email,
		"customer.company": cust.Company, "customer.title": cust.Title, "campaign.name": c.Name, "seller": seller}
	var custom map[string]any
	_ = json.Unmarshal(cust.Custom, &custom) // an object when set
	for k, v := range custom {
		if str, ok := v.(string); ok {
			vars["customer.custom."+k] = str
		} else if v != nil {
			vars["customer.custom."+k] = fmt.Sprint(v)
		}
	}
	tpl := c.Content[step]
	out.Subject = subjectLine(domain.ExpandTemplate(tpl.Subject, vars, subjectLine))
	if tpl.HTML != "" {
		out.HTML = emailPolicy.Sanitize(domain.ExpandTemplate(tpl.HTML, vars, html.EscapeString))
	}
	out.Text = domain.ExpandTemplate(tpl.Text, vars, nil)
	return out, nil
}

// subjectLine makes a subject one header line: control characters become
// spaces, at most 998 bytes (RFC 5322's line limit), valid UTF-8.
func subjectLine(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
	if len(v) > 998 {
		v = strings.ToValidUTF8(v[:998], "")
	}
	return v
}

// emailPolicy is the HTML a campaign email may hold once its variables
// are filled: what UGCPolicy allows (no script, no javascript: URL — a
// customer's data in an href cannot become one) plus the inline styles
// and layout attributes email HTML is made of.
var emailPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("style", "class", "align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing").Globally()
	p.AllowElements("center", "font", "span", "div")
	return p
}()
