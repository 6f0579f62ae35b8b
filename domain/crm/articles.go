package crm

import (
	"context"

	"switchboard/domain"
)

// ArticleEvent is the data of article.* events.
type ArticleEvent struct {
	Article *domain.Article `json:"article"`
	Changes []string        `json:"changes,omitempty"`
	Actor   Actor           `json:"actor"`
}

// PatchArticle applies a JSON merge patch of an article's fields.
func PatchArticle(a *domain.Article, patch map[string]any) error {
	return patchRecord(a, "article", patch)
}

// CreateArticle adds a knowledge-base article (article.created).
func (s *Service) CreateArticle(ctx context.Context, actor Actor, a *domain.Article) (*domain.Article, error) {
	return change(ctx, s, a.OrgID, actor, func(tx domain.Repo) (*domain.Article, []*domain.Event, *domain.AuditEntry, error) {
		if err := tx.CreateArticle(ctx, a); err != nil {
			return nil, nil, nil, err
		}
		return a, []*domain.Event{event("article.created", ArticleEvent{Article: a, Actor: actor})},
			&domain.AuditEntry{Action: "article.create", Target: "article/" + a.ID}, nil
	})
}

// UpdateArticle applies edit (article.updated; article.published when it
// becomes published).
func (s *Service) UpdateArticle(ctx context.Context, actor Actor, orgID, id string, version int, edit func(*domain.Article) error) (*domain.Article, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Article]{
		kind:    "article",
		get:     func(tx domain.Repo) (*domain.Article, error) { return tx.GetArticle(ctx, orgID, id) },
		save:    func(tx domain.Repo, a *domain.Article) error { return tx.UpdateArticle(ctx, a) },
		version: func(a *domain.Article) int { return a.Version },
		keep: func(before, a *domain.Article) {
			a.ID, a.OrgID, a.Version, a.CreatedAt = before.ID, before.OrgID, before.Version, before.CreatedAt
			a.Normalize()
		},
		events: func(before, a *domain.Article, changes []string) []*domain.Event {
			events := []*domain.Event{event("article.updated", ArticleEvent{Article: a, Changes: changes, Actor: actor})}
			if a.Published && !before.Published {
				events = append(events, event("article.published", ArticleEvent{Article: a, Actor: actor}))
			}
			return events
		},
	})
}

// DeleteArticle removes an article (article.deleted).
func (s *Service) DeleteArticle(ctx context.Context, actor Actor, orgID, id string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Article, []*domain.Event, *domain.AuditEntry, error) {
		a, err := tx.GetArticle(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := tx.DeleteArticle(ctx, orgID, id); err != nil {
			return nil, nil, nil, err
		}
		return a, []*domain.Event{event("article.deleted", ArticleEvent{Article: a, Actor: actor})},
			&domain.AuditEntry{Action: "article.delete", Target: "article/" + id}, nil
	})
	return err
}
