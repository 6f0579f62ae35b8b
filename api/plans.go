package api

import (
	"container/list"
	"errors"
	"fmt"
	"strings"
	"sync"

	"switchboard/domain"
	"switchboard/dsl"
)

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }

// planCache keeps compiled plans of revisions (immutable, so a cached plan
// never goes stale), bounded LRU.
type planCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type planEntry struct {
	key  string
	plan *dsl.Plan
}

func newPlanCache(max int) *planCache {
	return &planCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *planCache) get(key string) *dsl.Plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*planEntry).plan
	}
	return nil
}

func (c *planCache) put(key string, p *dsl.Plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	c.items[key] = c.order.PushFront(&planEntry{key, p})
	for c.order.Len() > c.max {
		el := c.order.Back()
		c.order.Remove(el)
		delete(c.items, el.Value.(*planEntry).key)
	}
}

// compile compiles a source; file names it in diagnostics.
func (s *Server) compile(file string, src []byte) (*dsl.Plan, dsl.Diagnostics) {
	return dsl.Compile(file, src, dsl.Options{Registry: s.opts.Registry})
}

// revisionPlan is the compiled plan of a stored revision.
func (s *Server) revisionPlan(r *domain.Revision, name string) (*dsl.Plan, error) {
	key := r.OrgID + "/" + r.DefinitionID + "@" + fmt.Sprint(r.Number) + "#" + r.PlanHash
	if p := s.plans.get(key); p != nil {
		return p, nil
	}
	p, diags := s.compile(fileName(name, r.Format), []byte(r.Source))
	if len(diags) > 0 {
		// the revision compiled when it was saved: the action registry changed since
		return nil, problem(409, ProbInvalidDSL, "revision %d of %s no longer compiles with this server's actions: %s",
			r.Number, name, strings.SplitN(diags.Error(), "\n", 2)[0])
	}
	s.plans.put(key, p)
	return p, nil
}

func fileName(name, format string) string {
	if format == "json" {
		return name + ".json"
	}
	return name + ".yaml"
}
