package dsl

import (
	"fmt"
	"testing"
)

func TestZZEval(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		v, err := EvalExpr("{'b': 1, 'a': 2, 'c': 3, 'd': 4, 'e': 5}.map(k, k)", Activation{})
		seen[fmt.Sprint(v, err)] = true
	}
	fmt.Println(seen)
	seen = map[string]bool{}
	for i := 0; i < 200; i++ {
		v, err := EvalExpr("input.m.transformMap(k, v, v + 1).map(k, k)", Activation{Values: map[string]any{"input": map[string]any{"m": map[string]any{"b": int64(1), "a": int64(2), "c": int64(3), "d": int64(3), "e": int64(3)}}}})
		seen[fmt.Sprint(v, err)] = true
	}
	fmt.Println(seen)
	seen = map[string]bool{}
	for i := 0; i < 200; i++ {
		v, err := EvalExpr("input.m.map(k, k)", Activation{Values: map[string]any{"input": map[string]any{"m": map[string]any{"b": int64(1), "a": int64(2), "c": int64(3), "d": int64(3), "e": int64(3)}}}})
		seen[fmt.Sprint(v, err)] = true
	}
	fmt.Println(seen)
}
