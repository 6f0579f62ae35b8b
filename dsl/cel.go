package dsl

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/env"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// CostLimit bounds the work of one expression evaluation (CEL cost units,
// roughly one per visited value). An expression over it fails with
// ExpressionError instead of running away.
const CostLimit = 1_000_000

// maxExprLen bounds expression source size.
const maxExprLen = 16 << 10

// Variables that every expression may use, and their declared types.
var globalVars = []string{"input", "vars", "steps", "run", "now"}

// Local variable kinds (types of loop/catch/trigger variables).
const (
	localDyn   = "dyn"
	localInt   = "int"
	localError = "error"
)

// envKey identifies a CEL environment by its locals ("name:type" sorted).
type envKey string

func makeEnvKey(locals map[string]string) envKey {
	names := make([]string, 0, len(locals))
	for n, t := range locals {
		names = append(names, n+":"+t)
	}
	sort.Strings(names)
	return envKey(strings.Join(names, ","))
}

var (
	baseEnvOnce sync.Once
	baseEnv     *cel.Env
	baseEnvErr  error
	envCache    boundedCache // envKey -> *cel.Env
	progCache   boundedCache // envKey + "\x00" + src -> cel.Program
)

// numeric overloads so that ints and doubles mix as users expect (1 + 0.5).
//
// cel-go binds each standard arithmetic operator as a "singleton" (one
// implementation for all overloads) and refuses to mix a singleton with
// overload-specific bindings, so the standard `_+_`, `_-_`, `_*_` and `_/_`
// are excluded from the standard library (arithOps) and declared again here
// with the standard overload ids plus int/double mixes, under one singleton
// that handles the mixes and otherwise behaves like the standard one. The
// mixed overloads also apply at run time to dyn values (vars.i + 0.5).
var arithOps = []string{operators.Add, operators.Subtract, operators.Multiply, operators.Divide}

func mixedArith() []cel.EnvOption {
	listOfA := cel.ListType(cel.TypeParamType("A"))
	std := map[string][]cel.FunctionOpt{
		operators.Add: {
			cel.Overload(overloads.AddBytes, []*cel.Type{cel.BytesType, cel.BytesType}, cel.BytesType),
			cel.Overload(overloads.AddDouble, []*cel.Type{cel.DoubleType, cel.DoubleType}, cel.DoubleType),
			cel.Overload(overloads.AddDurationDuration, []*cel.Type{cel.DurationType, cel.DurationType}, cel.DurationType),
			cel.Overload(overloads.AddDurationTimestamp, []*cel.Type{cel.DurationType, cel.TimestampType}, cel.TimestampType),
			cel.Overload(overloads.AddTimestampDuration, []*cel.Type{cel.TimestampType, cel.DurationType}, cel.TimestampType),
			cel.Overload(overloads.AddInt64, []*cel.Type{cel.IntType, cel.IntType}, cel.IntType),
			cel.Overload(overloads.AddList, []*cel.Type{listOfA, listOfA}, listOfA),
			cel.Overload(overloads.AddString, []*cel.Type{cel.StringType, cel.StringType}, cel.StringType),
			cel.Overload(overloads.AddUint64, []*cel.Type{cel.UintType, cel.UintType}, cel.UintType),
		},
		operators.Subtract: {
			cel.Overload(overloads.SubtractDouble, []*cel.Type{cel.DoubleType, cel.DoubleType}, cel.DoubleType),
			cel.Overload(overloads.SubtractDurationDuration, []*cel.Type{cel.DurationType, cel.DurationType}, cel.DurationType),
			cel.Overload(overloads.SubtractInt64, []*cel.Type{cel.IntType, cel.IntType}, cel.IntType),
			cel.Overload(overloads.SubtractTimestampDuration, []*cel.Type{cel.TimestampType, cel.DurationType}, cel.TimestampType),
			cel.Overload(overloads.SubtractTimestampTimestamp, []*cel.Type{cel.TimestampType, cel.TimestampType}, cel.DurationType),
			cel.Overload(overloads.SubtractUint64, []*cel.Type{cel.UintType, cel.UintType}, cel.UintType),
		},
		operators.Multiply: {
			cel.Overload(overloads.MultiplyDouble, []*cel.Type{cel.DoubleType, cel.DoubleType}, cel.DoubleType),
			cel.Overload(overloads.MultiplyInt64, []*cel.Type{cel.IntType, cel.IntType}, cel.IntType),
			cel.Overload(overloads.MultiplyUint64, []*cel.Type{cel.UintType, cel.UintType}, cel.UintType),
		},
		operators.Divide: {
			cel.Overload(overloads.DivideDouble, []*cel.Type{cel.DoubleType, cel.DoubleType}, cel.DoubleType),
			cel.Overload(overloads.DivideInt64, []*cel.Type{cel.IntType, cel.IntType}, cel.IntType),
			cel.Overload(overloads.DivideUint64, []*cel.Type{cel.UintType, cel.UintType}, cel.UintType),
		},
	}
	ops := []struct {
		op  string
		f   func(a, b float64) float64
		std func(a, b ref.Val) ref.Val
	}{
		{operators.Add, func(a, b float64) float64 { return a + b }, func(a, b ref.Val) ref.Val {
			if x, ok := a.(traits.Adder); ok {
				return x.Add(b)
			}
			return types.MaybeNoSuchOverloadErr(a)
		}},
		{operators.Subtract, func(a, b float64) float64 { return a - b }, func(a, b ref.Val) ref.Val {
			if x, ok := a.(traits.Subtractor); ok {
				return x.Subtract(b)
			}
			return types.MaybeNoSuchOverloadErr(a)
		}},
		{operators.Multiply, func(a, b float64) float64 { return a * b }, func(a, b ref.Val) ref.Val {
			if x, ok := a.(traits.Multiplier); ok {
				return x.Multiply(b)
			}
			return types.MaybeNoSuchOverloadErr(a)
		}},
		{operators.Divide, func(a, b float64) float64 { return a / b }, func(a, b ref.Val) ref.Val {
			if x, ok := a.(traits.Divider); ok {
				return x.Divide(b)
			}
			return types.MaybeNoSuchOverloadErr(a)
		}},
	}
	var opts []cel.EnvOption
	for _, o := range ops {
		f, stdImpl := o.f, o.std
		name := strings.Trim(o.op, "_")
		fopts := append([]cel.FunctionOpt{}, std[o.op]...)
		fopts = append(fopts,
			cel.Overload("sb_"+name+"_int_double", []*cel.Type{cel.IntType, cel.DoubleType}, cel.DoubleType),
			cel.Overload("sb_"+name+"_double_int", []*cel.Type{cel.DoubleType, cel.IntType}, cel.DoubleType),
			cel.SingletonBinaryBinding(func(a, b ref.Val) ref.Val {
				switch x := a.(type) {
				case types.Int:
					if y, ok := b.(types.Double); ok {
						return types.Double(f(float64(x), float64(y)))
					}
				case types.Double:
					if y, ok := b.(types.Int); ok {
						return types.Double(f(float64(x), float64(y)))
					}
				}
				return stdImpl(a, b)
			}),
		)
		opts = append(opts, cel.Function(o.op, fopts...))
	}
	return opts
}

func getBaseEnv() (*cel.Env, error) {
	baseEnvOnce.Do(func() {
		opts := []cel.EnvOption{
			cel.CustomTypeAdapter(adapter),
			cel.CrossTypeNumericComparisons(true),
			cel.DefaultUTCTimeZone(true),
			cel.ParserExpressionSizeLimit(maxExprLen),
			cel.OptionalTypes(),
			ext.Strings(),
			ext.Math(),
			ext.Lists(),
			ext.Sets(),
			ext.Encoders(),
			ext.TwoVarComprehensions(),
			cel.Variable("input", cel.DynType),
			cel.Variable("vars", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("steps", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("run", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("now", cel.TimestampType),
		}
		opts = append(opts, mixedArith()...)
		exclude := &env.LibrarySubset{}
		for _, op := range arithOps {
			exclude.ExcludeFunctions = append(exclude.ExcludeFunctions, &env.Function{Name: op})
		}
		opts = append([]cel.EnvOption{cel.StdLib(cel.StdLibSubset(exclude))}, opts...)
		baseEnv, baseEnvErr = cel.NewCustomEnv(opts...)
	})
	return baseEnv, baseEnvErr
}

func envFor(locals map[string]string) (*cel.Env, envKey, error) {
	key := makeEnvKey(locals)
	if e, ok := envCache.Load(key); ok {
		return e.(*cel.Env), key, nil
	}
	base, err := getBaseEnv()
	if err != nil {
		return nil, key, err
	}
	var opts []cel.EnvOption
	for name, t := range locals {
		switch t {
		case localInt:
			opts = append(opts, cel.Variable(name, cel.IntType))
		case localError:
			opts = append(opts, cel.Variable(name, cel.MapType(cel.StringType, cel.DynType)))
		default:
			opts = append(opts, cel.Variable(name, cel.DynType))
		}
	}
	env := base
	if len(opts) > 0 {
		env, err = base.Extend(opts...)
		if err != nil {
			return nil, key, err
		}
	}
	envCache.Store(key, env)
	return env, key, nil
}

// program returns a compiled, cached CEL program for src with the given locals.
func program(src string, locals map[string]string) (cel.Program, error) {
	env, key, err := envFor(locals)
	if err != nil {
		return nil, err
	}
	ck := string(key) + "\x00" + src
	if p, ok := progCache.Load(ck); ok {
		return p.(cel.Program), nil
	}
	a, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	popts := []cel.ProgramOption{cel.CostLimit(CostLimit), cel.EvalOptions(cel.OptOptimize)}
	if ids := mapBuilders(a.NativeRep()); len(ids) > 0 {
		popts = append(popts, cel.CustomDecoratorV2(sortMapsDecorator(ids)))
	}
	p, err := env.Program(a, popts...)
	if err != nil {
		return nil, err
	}
	progCache.Store(ck, p)
	return p, nil
}

// Activation holds the values in scope for an evaluation: the globals
// (input, vars, steps, run, now) and locals such as the foreach item.
// Values are plain Go data (see DecodeJSON); now is a time.Time.
type Activation struct {
	Values map[string]any
	// Locals maps each local variable name to its kind (dyn, int, error).
	Locals map[string]string
}

// ExprError is an expression that failed at run time.
type ExprError struct {
	Src string
	Err error
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("expression `%s`: %v", strings.TrimSpace(e.Src), e.Err)
}

// EvalExpr evaluates a CEL expression and returns plain Go data.
func EvalExpr(src string, act Activation) (any, error) {
	p, err := program(src, act.Locals)
	if err != nil {
		return nil, &ExprError{Src: src, Err: err}
	}
	vals := act.Values
	if vals == nil {
		vals = map[string]any{}
	}
	out, _, err := p.Eval(vals)
	if err != nil {
		return nil, &ExprError{Src: src, Err: err}
	}
	v, err := toGo(out, 0)
	if err != nil {
		return nil, &ExprError{Src: src, Err: err}
	}
	return v, nil
}

// EvalBool evaluates a condition.
func EvalBool(src string, act Activation) (bool, error) {
	v, err := EvalExpr(src, act)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, &ExprError{Src: src, Err: fmt.Errorf("condition must be a boolean, got %s", typeName(v))}
	}
	return b, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "double"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// toGo converts a CEL value to plain Go data (nil, bool, int64, float64,
// string, []any, map[string]any). Timestamps become RFC 3339 strings.
func toGo(v ref.Val, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("value nested too deep")
	}
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), nil
		}
		return float64(x), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("result %v is not a JSON number", f)
		}
		return f, nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString([]byte(x)), nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	case *types.Err:
		return nil, x
	case *types.Optional:
		if !x.HasValue() {
			return nil, nil
		}
		return toGo(x.GetValue(), depth+1)
	case traits.Mapper:
		m := map[string]any{}
		it := x.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			val, _ := x.Find(k)
			var ks string
			switch kk := k.(type) {
			case types.String:
				ks = string(kk)
			case types.Int, types.Uint, types.Bool:
				ks = fmt.Sprint(kk.Value())
			default:
				return nil, fmt.Errorf("map key of type %s cannot be stored as JSON", k.Type().TypeName())
			}
			g, err := toGo(val, depth+1)
			if err != nil {
				return nil, err
			}
			m[ks] = g
		}
		return m, nil
	case traits.Lister:
		n, _ := x.Size().(types.Int)
		l := make([]any, 0, int(n))
		it := x.Iterator()
		for it.HasNext() == types.True {
			g, err := toGo(it.Next(), depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, g)
		}
		return l, nil
	}
	if v.Type() == types.TypeType {
		return v.(ref.Type).TypeName(), nil
	}
	return nil, fmt.Errorf("value of type %s cannot be stored as JSON", v.Type().TypeName())
}

// celAdapter adapts plain Go data to CEL. Maps iterate in sorted key order so
// that comprehensions over data are deterministic (workflow replay relies on it).
type celAdapter struct{}

var adapter = celAdapter{}

func (celAdapter) NativeToValue(v any) ref.Val {
	switch x := v.(type) {
	case map[string]any:
		return sortedMap{Mapper: types.NewStringInterfaceMap(adapter, x), m: x}
	case []any:
		return types.NewDynamicList(adapter, x)
	case int:
		return types.Int(x)
	case int64:
		return types.Int(x)
	case float64:
		return types.Double(x)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

type sortedMap struct {
	traits.Mapper
	m map[string]any
}

func (s sortedMap) Iterator() traits.Iterator {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return types.NewStringList(adapter, keys).Iterator()
}

func (s sortedMap) ConvertToNative(t reflect.Type) (any, error) {
	if t.Kind() == reflect.Interface || t == reflect.TypeOf(s.m) {
		return s.m, nil
	}
	return s.Mapper.ConvertToNative(t)
}

// maxCached bounds each cache: a long-lived worker evaluating ever new
// expressions (new revisions, generated workflows) must not grow forever.
const maxCached = 20_000

// boundedCache is a concurrent map that is emptied when it grows past
// maxCached entries (the working set is rebuilt on demand; compiling one
// expression takes microseconds).
type boundedCache struct {
	m sync.Map
	n atomic.Int64
}

func (c *boundedCache) Load(k any) (any, bool) { return c.m.Load(k) }

func (c *boundedCache) Store(k, v any) {
	if _, loaded := c.m.Swap(k, v); loaded {
		return
	}
	if c.n.Add(1) > maxCached {
		c.m.Clear()
		c.n.Store(0)
	}
}
