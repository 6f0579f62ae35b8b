package dsl

import (
	"sort"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
)

// Maps built by expressions (map literals, transformMap and other
// comprehensions) are Go maps inside CEL and iterate in random order, so
// `{"b": 1, "a": 2}.map(k, k)` could differ between a run and its replay.
// sortMapsDecorator wraps the nodes that can build maps so that iterating over
// the maps they produce is in sorted key order, like data maps (sortedMap).

// mapBuilders lists the ids of the AST nodes that may produce a new map.
func mapBuilders(a *celast.AST) map[int64]bool {
	ids := map[int64]bool{}
	celast.PostOrderVisit(a.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.MapKind, celast.ComprehensionKind:
			ids[e.ID()] = true
		}
	}))
	return ids
}

func sortMapsDecorator(ids map[int64]bool) interpreter.InterpretableDecoratorV2 {
	return func(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
		if !ids[i.ID()] {
			return i, nil
		}
		if _, attr := i.(interpreter.InterpretableAttribute); attr {
			// An attribute over a map node (`{...}.a`) shares its id; its
			// operand is the map node, which is wrapped itself.
			return i, nil
		}
		return sortingNode{i}, nil
	}
}

type sortingNode struct{ interpreter.InterpretableV2 }

func (n sortingNode) Exec(f *interpreter.ExecutionFrame) ref.Val {
	return sortKeys(n.InterpretableV2.Exec(f))
}

func (n sortingNode) Eval(a interpreter.Activation) ref.Val {
	return sortKeys(n.InterpretableV2.Eval(a))
}

func sortKeys(v ref.Val) ref.Val {
	switch m := v.(type) {
	case sortedMap, sortedRefMap:
		return v
	case traits.Mapper:
		return sortedRefMap{m}
	}
	return v
}

// sortedRefMap is a CEL map whose iteration is in sorted key order.
type sortedRefMap struct{ traits.Mapper }

func (m sortedRefMap) Iterator() traits.Iterator {
	var keys []ref.Val
	it := m.Mapper.Iterator()
	for it.HasNext() == types.True {
		keys = append(keys, it.Next())
	}
	sort.SliceStable(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	return types.NewRefValList(adapter, keys).Iterator()
}

// keyLess orders map keys: booleans, then numbers, then strings.
func keyLess(a, b ref.Val) bool {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra < rb
	}
	if c, ok := a.(traits.Comparer); ok {
		if r, ok := c.Compare(b).(types.Int); ok {
			return r < 0
		}
	}
	return false
}

func keyRank(v ref.Val) int {
	switch v.(type) {
	case types.Bool:
		return 0
	case types.Int, types.Uint, types.Double:
		return 1
	case types.String:
		return 2
	}
	return 3
}
