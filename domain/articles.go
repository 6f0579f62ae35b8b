package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Article is a knowledge-base article: Markdown, tagged, published or not.
type Article struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	Title     string    `json:"title"`
	Body      string    `json:"body"` // Markdown
	Tags      []string  `json:"tags,omitempty"`
	Published bool      `json:"published"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Normalize trims the title and sorts and de-duplicates the tags.
func (a *Article) Normalize() {
	a.Title = strings.TrimSpace(a.Title)
	c := Customer{Tags: a.Tags}
	c.Normalize()
	a.Tags = c.Tags
}

// Validate checks every field and reports all the invalid ones at once.
func (a *Article) Validate() error {
	v := &fieldChecker{record: "article"}
	v.text("title", a.Title, 200, true)
	if len(a.Body) > 200<<10 {
		v.add("body", "is larger than 200 KiB")
	}
	if len(a.Tags) > 50 {
		v.add("tags", "has %d tags; at most 50", len(a.Tags))
	}
	for i, t := range a.Tags {
		if !tagRe.MatchString(t) {
			v.add(fmt.Sprintf("tags[%d]", i), "is %q; tags are 1–63 letters, digits, spaces and _ . : / -", t)
		}
	}
	return v.err()
}

// ArticleQuery selects articles. With Search, the best matches come first
// (at most Limit, no further pages); without, newest first with cursors.
type ArticleQuery struct {
	Search    string
	Tag       string
	Published *bool
	After     string
	Limit     int
}

// ArticleRepo keeps the knowledge base (part of Repo).
type ArticleRepo interface {
	CreateArticle(ctx context.Context, a *Article) error
	GetArticle(ctx context.Context, orgID, id string) (*Article, error)
	// UpdateArticle saves a when its stored version is a.Version (else ErrConflict).
	UpdateArticle(ctx context.Context, a *Article) error
	DeleteArticle(ctx context.Context, orgID, id string) error
	ListArticles(ctx context.Context, orgID string, q ArticleQuery) ([]Article, string, error)
}
