package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

func (s *Server) articleRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"knowledge base"}
	type createArticleInput struct {
		Body struct {
			Title     string   `json:"title" minLength:"1" maxLength:"200"`
			Body      string   `json:"body" maxLength:"204800" doc:"Markdown"`
			Tags      []string `json:"tags,omitempty" maxItems:"50"`
			Published bool     `json:"published,omitempty"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-article", Method: http.MethodPost, Path: "/v1/articles",
		DefaultStatus: http.StatusCreated, Summary: "Add a knowledge-base article", Tags: tags, Description: "Emits `article.created`."},
		func(ctx context.Context, in *createArticleInput) (*recordOut[domain.Article], error) {
			pr := principal(ctx)
			a := &domain.Article{OrgID: pr.OrgID, Title: in.Body.Title, Body: in.Body.Body, Tags: in.Body.Tags, Published: in.Body.Published}
			if _, err := svc.CreateArticle(ctx, crm.Actor(pr.Actor()), a); err != nil {
				return nil, storeErr(err, "article")
			}
			return out(a, a.Version), nil
		})
	type listArticlesInput struct {
		Q         string `query:"q" maxLength:"200" doc:"Full-text search (stemmed, every word a prefix); the best matches first, one page"`
		Tag       string `query:"tag" maxLength:"63"`
		Published string `query:"published" enum:"true,false"`
		Limit     int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor    string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-articles", Method: http.MethodGet, Path: "/v1/articles",
		Summary: "List or search the knowledge base", Tags: tags},
		func(ctx context.Context, in *listArticlesInput) (*bodyOut[Page[domain.Article]], error) {
			q := domain.ArticleQuery{Search: in.Q, Tag: in.Tag, Limit: in.Limit, After: in.Cursor}
			if in.Published != "" {
				p := in.Published == "true"
				q.Published = &p
			}
			as, next, err := s.store.ListArticles(ctx, principal(ctx).OrgID, q)
			if err != nil {
				return nil, storeErr(err, "articles")
			}
			return &bodyOut[Page[domain.Article]]{Page[domain.Article]{Items: as, NextCursor: next}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-article", Method: http.MethodGet, Path: "/v1/articles/{id}",
		Summary: "Get an article", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Article], error) {
			a, err := s.store.GetArticle(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "article "+in.ID)
			}
			return out(a, a.Version), nil
		})
	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-article", Method: http.MethodPatch, Path: "/v1/articles/{id}",
		Summary: "Change an article (JSON merge patch)", Tags: tags, Description: "Emits `article.updated`, and `article.published` when it becomes published."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Article], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			a, err := svc.UpdateArticle(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(a *domain.Article) error { return crm.PatchArticle(a, patch) })
			if err != nil {
				return nil, recordErr(err, version != 0, "article "+in.ID)
			}
			return out(a, a.Version), nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-article", Method: http.MethodDelete, Path: "/v1/articles/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete an article", Tags: tags, Description: "Emits `article.deleted`."},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteArticle(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID), "article "+in.ID)
		})
}
