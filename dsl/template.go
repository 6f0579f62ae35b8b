package dsl

import (
	"fmt"
	"strings"
)

// tmplPart is a piece of an interpolated string: literal text or an
// expression. Off is the byte offset of the expression source in the string.
type tmplPart struct {
	Text string `json:"t,omitempty"`
	Expr string `json:"x,omitempty"`
	Off  int    `json:"-"`
}

// splitTemplate cuts a string at its ${ ... } segments. whole is true when
// the string is exactly one expression (surrounding spaces allowed); parts
// then holds only that expression.
func splitTemplate(s string) (parts []tmplPart, whole bool, err error) {
	rest, base := s, 0
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			if rest != "" {
				parts = append(parts, tmplPart{Text: rest})
			}
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{Text: rest[:i]})
		}
		end, ok := matchBrace(rest, i+2)
		if !ok {
			return nil, false, fmt.Errorf("`${` at offset %d has no closing `}`", base+i)
		}
		src := rest[i+2 : end]
		if strings.TrimSpace(src) == "" {
			return nil, false, fmt.Errorf("empty expression `${}`")
		}
		parts = append(parts, tmplPart{Expr: src, Off: base + i + 2})
		base += end + 1
		rest = rest[end+1:]
	}
	exprs := 0
	for _, p := range parts {
		if p.Expr != "" {
			exprs++
		}
	}
	if exprs == 1 {
		trimmed := strings.TrimSpace(s)
		if strings.HasPrefix(trimmed, "${") {
			if end, ok := matchBrace(trimmed, 2); ok && end == len(trimmed)-1 {
				whole = true
				// Surrounding blanks are not part of the value: keep only the
				// expression, which callers take as parts[len(parts)-1].
				for _, p := range parts {
					if p.Expr != "" {
						parts = []tmplPart{p}
						break
					}
				}
			}
		}
	}
	return parts, whole, nil
}

// matchBrace finds the } closing an expression that starts at i, skipping
// nested brackets and CEL string literals.
func matchBrace(s string, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		c := s[i]
		switch c {
		case '"', '\'':
			// triple-quoted or plain string literal
			q := string(c)
			if strings.HasPrefix(s[i:], q+q+q) {
				j := strings.Index(s[i+3:], q+q+q)
				if j < 0 {
					return 0, false
				}
				i += 3 + j + 3
				continue
			}
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i++
			continue
		case '{', '[', '(':
			depth++
		case ']', ')':
			depth--
		case '}':
			if depth == 0 {
				return i, true
			}
			depth--
		}
		i++
	}
	return 0, false
}

// condSource returns the CEL source of a condition, which may be written
// with or without ${ }.
func condSource(s string) (string, int, error) {
	parts, whole, err := splitTemplate(s)
	if err != nil {
		return "", 0, err
	}
	if whole {
		return parts[len(parts)-1].Expr, parts[len(parts)-1].Off, nil
	}
	for _, p := range parts {
		if p.Expr != "" {
			return "", 0, fmt.Errorf("a condition is one CEL expression; remove the text around `${ }`")
		}
	}
	return s, 0, nil
}
