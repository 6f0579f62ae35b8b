package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"switchboard/domain"
)

// The knowledge base (domain.ArticleRepo).

const articleCols = `org_id, id, title, body, tags, published, version, created_at, updated_at`

func scanArticle(s scanner) (a domain.Article, err error) {
	var tags json.RawMessage
	err = s.Scan(&a.OrgID, &a.ID, &a.Title, &a.Body, jsonDest{&tags}, &a.Published, &a.Version, scanTime(&a.CreatedAt), scanTime(&a.UpdatedAt))
	if err == nil {
		err = json.Unmarshal(tags, &a.Tags)
	}
	if len(a.Tags) == 0 {
		a.Tags = nil
	}
	return a, err
}

func checkArticle(a *domain.Article) error {
	if err := need("article", "orgId", a.OrgID); err != nil {
		return err
	}
	a.Normalize()
	return a.Validate()
}

func tagsArg(tags []string) string {
	b, _ := json.Marshal(cmpOr(tags, []string{}))
	return string(b)
}

func (r *repo) CreateArticle(ctx context.Context, a *domain.Article) error {
	if err := checkArticle(a); err != nil {
		return err
	}
	a.ID, a.Version = newID(a.ID), 1
	a.CreatedAt = stamp(a.CreatedAt)
	a.UpdatedAt = a.CreatedAt
	_, err := r.exec(ctx, `INSERT INTO articles (`+articleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.OrgID, a.ID, a.Title, a.Body, tagsArg(a.Tags), a.Published, a.Version, r.ts(a.CreatedAt), r.ts(a.UpdatedAt))
	return wrap("create article", err)
}

func (r *repo) GetArticle(ctx context.Context, orgID, id string) (*domain.Article, error) {
	return get(ctx, r, "article "+id, scanArticle, `SELECT `+articleCols+` FROM articles WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) UpdateArticle(ctx context.Context, a *domain.Article) error {
	if err := checkArticle(a); err != nil {
		return err
	}
	what := "update article " + a.ID
	a.UpdatedAt = stamp(time.Time{})
	n, err := r.exec(ctx, `UPDATE articles SET title = ?, body = ?, tags = ?, published = ?, updated_at = ?, version = version + 1
		WHERE org_id = ? AND id = ? AND version = ?`, a.Title, a.Body, tagsArg(a.Tags), a.Published, r.ts(a.UpdatedAt), a.OrgID, a.ID, a.Version)
	switch {
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "articles", a.OrgID, a.ID, a.Version)
	}
	a.Version++
	return nil
}

func (r *repo) DeleteArticle(ctx context.Context, orgID, id string) error {
	return r.deleteRecord(ctx, "articles", "article", orgID, id, "other records refer to it")
}

var articlePages = &keyset[domain.Article]{
	record: "article query",
	order:  []string{"created"},
	from:   `SELECT ` + articleCols + ` FROM articles`,
	scan:   scanArticle,
	sorts:  map[string]sortKey[domain.Article]{"created": {}},
}

// ListArticles lists articles newest first, or with Search the best
// matches first (ranked; one page).
func (r *repo) ListArticles(ctx context.Context, orgID string, q domain.ArticleQuery) ([]domain.Article, string, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	if q.Published != nil {
		where, args = append(where, "published = ?"), append(args, *q.Published)
	}
	if q.Tag != "" {
		if r.postgres {
			b, _ := json.Marshal([]string{q.Tag})
			where, args = append(where, "tags @> ?::jsonb"), append(args, string(b))
		} else {
			where, args = append(where, "EXISTS (SELECT 1 FROM json_each(articles.tags) WHERE value = ?)"), append(args, q.Tag)
		}
	}
	words := strings.FieldsFunc(strings.ToLower(q.Search), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	if len(words) > 12 {
		words = words[:12]
	}
	if strings.TrimSpace(q.Search) == "" {
		l, err := articlePages.build(r, where, args, "created", true, q.After, q.Limit)
		if err != nil {
			return nil, "", err
		}
		return articlePages.run(ctx, r, l, func(a *domain.Article) string { return a.ID })
	}
	size := domain.Page{Limit: q.Limit}.Size()
	if len(words) == 0 {
		return []domain.Article{}, "", nil
	}
	var query string
	if r.postgres {
		// every word, stemmed, as a prefix: "refund polic" finds "refunds policy"
		terms := make([]string, len(words))
		for i, w := range words {
			terms[i] = w + ":*"
		}
		args = append(args, strings.Join(terms, " & "))
		query = `SELECT ` + articleCols + ` FROM articles WHERE ` + strings.Join(where, " AND ") +
			` AND search @@ to_tsquery('english', ?) ORDER BY ts_rank(search, to_tsquery('english', ?)) DESC, id DESC LIMIT ?`
		args = append(args, strings.Join(terms, " & "), size)
	} else {
		terms := make([]string, len(words))
		for i, w := range words {
			terms[i] = `"` + w + `"*`
		}
		query = `SELECT ` + articleCols + ` FROM articles JOIN (SELECT rowid AS r, rank FROM articles_fts WHERE articles_fts MATCH ?) m
			ON articles.rowid = m.r WHERE ` + strings.Join(where, " AND ") + ` ORDER BY m.rank, id DESC LIMIT ?`
		args = append([]any{strings.Join(terms, " ")}, args...)
		args = append(args, size)
	}
	out, err := list(ctx, r, "search articles", scanArticle, query, args...)
	return out, "", err
}
