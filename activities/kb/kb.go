package kb

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"switchboard/activities"
	"switchboard/domain"
	"switchboard/dsl"
)

// Options configure the connector. Without a Store the action fails with
// NoRecords (mock it in `switchboard run`).
type Options struct {
	Store domain.Store
}

// excerptRunes is how much of an article's body a hit carries: runs keep
// ids and summaries in their history, not whole documents.
const excerptRunes = 300

// Action declares kb.search.
func Action() dsl.Action {
	return dsl.Action{
		Name:  "kb.search",
		Title: "Search the knowledge base",
		Description: "The `limit` (default 5, at most 20) published articles best matching `query` (stemmed words, title above body), " +
			"best first, each with its id, title, tags and the first 300 characters of its body; `includeDrafts` searches unpublished " +
			"articles too, `tag` narrows to one tag. For an answer-drafting step, read the whole article with the API.",
		Input: json.RawMessage(`{"type": "object", "required": ["query"], "additionalProperties": false, "properties": {
			"query": {"type": "string", "minLength": 1, "maxLength": 500}, "limit": {"type": "integer", "minimum": 1, "maximum": 20},
			"tag": {"type": "string"}, "includeDrafts": {"type": "boolean"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["items"], "properties": {
			"items": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["id", "title", "excerpt", "published"],
				"properties": {"id": {"type": "string"}, "title": {"type": "string"}, "excerpt": {"type": "string"},
				"tags": {"type": "array", "items": {"type": "string"}}, "published": {"type": "boolean"}}}}}}`),
		Errors: []string{activities.NoRecords},
	}
}

// New returns the implementation of kb.search.
func New(o Options) activities.Func {
	return func(ctx context.Context, args map[string]any) (any, error) {
		call, err := activities.PlatformCall(ctx, "kb.search", o.Store != nil)
		if err != nil {
			return nil, err
		}
		q := domain.ArticleQuery{Search: args["query"].(string), Limit: 5}
		if n, ok := args["limit"].(int64); ok {
			q.Limit = int(n)
		}
		if tag, ok := args["tag"].(string); ok {
			q.Tag = tag
		}
		if drafts, _ := args["includeDrafts"].(bool); !drafts {
			published := true
			q.Published = &published
		}
		arts, _, err := o.Store.ListArticles(ctx, call.Org, q)
		if err != nil {
			return nil, err // the database: retried
		}
		items := make([]any, 0, len(arts))
		for _, a := range arts {
			tags := make([]any, len(a.Tags))
			for i, t := range a.Tags {
				tags[i] = t
			}
			items = append(items, map[string]any{"id": a.ID, "title": a.Title, "excerpt": excerpt(a.Body), "tags": tags, "published": a.Published})
		}
		return map[string]any{"items": items}, nil
	}
}

// excerpt is the start of a body, cut at a word boundary, at most excerptRunes runes.
func excerpt(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(body) <= excerptRunes {
		return body
	}
	r := []rune(body)[:excerptRunes]
	s := string(r)
	if i := strings.LastIndexByte(s, ' '); i > excerptRunes/2 {
		s = s[:i]
	}
	return s + "…"
}
