package dsl

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mapping offsets of a string's value back to the source.
//
// A string scalar's value is not its source text: quotes are removed,
// escapes (`\t`, `''`) are decoded, lines are folded, and block scalars
// (`|`, `>`) drop their indentation. To point a diagnostic at an expression
// inside a string, strPositions decodes the scalar again from the source,
// recording where each byte of the value comes from. When the decoding does
// not reproduce the parser's value exactly (an exotic form), it gives up and
// callers fall back to an approximation.

// lineStarts returns the byte offset of the start of each line of src.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// byteOffset returns the byte offset in src of a 1-based line and rune column.
func byteOffset(src []byte, starts []int, p Pos) (int, bool) {
	if p.Line < 1 || p.Line > len(starts) || p.Col < 1 {
		return 0, false
	}
	i := starts[p.Line-1]
	for col := 1; col < p.Col; col++ {
		if i >= len(src) || src[i] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(src[i:])
		i += size
	}
	return i, true
}

type srcScanner struct {
	src       []byte
	i         int
	line, col int
	out       []byte
	pos       []Pos
}

func (s *srcScanner) eof() bool { return s.i >= len(s.src) }

func (s *srcScanner) peek(k int) byte {
	if s.i+k >= len(s.src) {
		return 0
	}
	return s.src[s.i+k]
}

func (s *srcScanner) here() Pos { return Pos{Line: s.line, Col: s.col} }

// advance moves past one rune.
func (s *srcScanner) advance() {
	if s.eof() {
		return
	}
	if s.src[s.i] == '\n' {
		s.i++
		s.line++
		s.col = 1
		return
	}
	_, size := utf8.DecodeRune(s.src[s.i:])
	s.i += size
	s.col++
}

func (s *srcScanner) emit(b []byte, p Pos) {
	s.out = append(s.out, b...)
	for range b {
		s.pos = append(s.pos, p)
	}
}

// copyRune emits the rune under the scanner and moves past it.
func (s *srcScanner) copyRune() {
	_, size := utf8.DecodeRune(s.src[s.i:])
	s.emit(s.src[s.i:s.i+size], s.here())
	s.advance()
}

func isBreak(b byte) bool { return b == '\n' || b == '\r' }
func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// skipBreak moves past one line break (\n or \r\n).
func (s *srcScanner) skipBreak() {
	if s.peek(0) == '\r' {
		s.i++
		s.col++
	}
	if s.peek(0) == '\n' {
		s.advance()
	}
}

// blanksThenBreak reports whether only blanks remain before a line break (or the end).
func (s *srcScanner) blanksThenBreak() bool {
	j := s.i
	for j < len(s.src) && isBlank(s.src[j]) {
		j++
	}
	return j >= len(s.src) || isBreak(s.src[j])
}

// fold handles a line break inside a flow scalar: one break becomes a
// space, n+1 breaks become n newlines, and leading blanks are dropped.
func (s *srcScanner) fold() {
	p := s.here()
	s.skipBreak()
	empty := 0
	for {
		for isBlank(s.peek(0)) {
			s.advance()
		}
		if !isBreak(s.peek(0)) {
			break
		}
		empty++
		s.skipBreak()
	}
	if empty == 0 {
		s.emit([]byte{' '}, p)
	} else {
		s.emit([]byte(strings.Repeat("\n", empty)), p)
	}
}

// strPositions returns the source position of every byte of a string node's
// value, plus one for the position just after it; nil when unknown.
func strPositions(src []byte, starts []int, n *Node) []Pos {
	if n == nil || n.Kind != StringNode || len(src) == 0 {
		return nil
	}
	start, ok := byteOffset(src, starts, n.Pos)
	if !ok || start >= len(src) {
		return nil
	}
	s := &srcScanner{src: src, i: start, line: n.Pos.Line, col: n.Pos.Col}
	want := len(n.Str)
	switch src[start] {
	case '\'', '"':
		s.quoted(src[start], want)
	case '|', '>':
		s.block(src[start], starts, want)
	default:
		s.plain(want)
	}
	if len(s.out) < want || string(s.out[:want]) != n.Str {
		return nil
	}
	out := s.pos[:want:want]
	return append(out, s.here())
}

func (s *srcScanner) plain(want int) {
	for !s.eof() && len(s.out) < want {
		c := s.peek(0)
		switch {
		case isBreak(c):
			s.fold()
		case isBlank(c) && s.blanksThenBreak():
			for isBlank(s.peek(0)) {
				s.advance()
			}
		default:
			s.copyRune()
		}
	}
}

var simpleEscapes = map[byte]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f", 'r': "\r",
	'e': "\x1b", ' ': " ", '"': "\"", '/': "/", '\\': "\\", 'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}

func (s *srcScanner) quoted(q byte, want int) {
	s.advance() // opening quote
	for !s.eof() && len(s.out) < want {
		c := s.peek(0)
		switch {
		case q == '\'' && c == '\'':
			if s.peek(1) != '\'' {
				return
			}
			s.emit([]byte{'\''}, s.here())
			s.advance()
			s.advance()
		case q == '"' && c == '"':
			return
		case q == '"' && c == '\\':
			p := s.here()
			e := s.peek(1)
			if isBreak(e) { // escaped line break: joins the lines
				s.advance()
				s.skipBreak()
				for isBlank(s.peek(0)) {
					s.advance()
				}
				continue
			}
			if r, ok := simpleEscapes[e]; ok {
				s.emit([]byte(r), p)
				s.advance()
				s.advance()
				continue
			}
			digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if digits == 0 || s.i+2+digits > len(s.src) {
				return // not an escape we know: give up
			}
			v, err := strconv.ParseUint(string(s.src[s.i+2:s.i+2+digits]), 16, 32)
			if err != nil {
				return
			}
			s.emit(utf8.AppendRune(nil, rune(v)), p)
			for k := 0; k < 2+digits; k++ {
				s.advance()
			}
		case isBreak(c):
			s.fold()
		case isBlank(c) && s.blanksThenBreak():
			for isBlank(s.peek(0)) {
				s.advance()
			}
		default:
			s.copyRune()
		}
	}
}

// block decodes a literal (|) or folded (>) block scalar.
func (s *srcScanner) block(style byte, starts []int, want int) {
	// header: indicator, chomping and indentation indicators, comment
	headerLine := s.line
	s.advance()
	explicit := 0
	for !s.eof() && !isBreak(s.peek(0)) {
		if c := s.peek(0); c >= '1' && c <= '9' && explicit == 0 {
			explicit = int(c - '0')
		}
		s.advance()
	}
	s.skipBreak()
	// indentation: explicit, else that of the first non-empty line
	indent := 0
	if explicit > 0 {
		parent := 0
		for j := starts[headerLine-1]; j < len(s.src) && s.src[j] == ' '; j++ {
			parent++
		}
		indent = parent + explicit
	} else {
	scan:
		for j, k := s.i, 0; j < len(s.src); j++ {
			switch s.src[j] {
			case ' ':
				k++
			case '\n', '\r':
				k = 0
			default:
				indent = k
				break scan
			}
		}
	}
	if indent == 0 {
		return
	}
	// lines
	prevMore, first, empties := false, true, 0
	var breakPos Pos
	for !s.eof() && len(s.out) < want {
		// measure this line's indentation
		k := 0
		for k < indent && s.peek(k) == ' ' {
			k++
		}
		rest := s.i + k
		isEmpty := rest >= len(s.src) || isBreak(s.src[rest]) || (k < indent && s.blanksThenBreak())
		if isEmpty {
			for !s.eof() && !isBreak(s.peek(0)) {
				s.advance()
			}
			if first || style == '|' {
				s.emit([]byte{'\n'}, s.here())
			} else {
				empties++
			}
			s.skipBreak()
			continue
		}
		if k < indent {
			return // end of the block
		}
		for j := 0; j < k; j++ {
			s.advance()
		}
		more := isBlank(s.peek(0))
		if style == '>' && !first {
			switch {
			case !prevMore && !more && empties == 0:
				s.emit([]byte{' '}, breakPos)
			case !prevMore && !more:
				s.emit([]byte(strings.Repeat("\n", empties)), breakPos)
			default:
				s.emit([]byte(strings.Repeat("\n", empties+1)), breakPos)
			}
		}
		first, empties, prevMore = false, 0, more
		for !s.eof() && !isBreak(s.peek(0)) && len(s.out) < want {
			s.copyRune()
		}
		if len(s.out) >= want {
			return
		}
		breakPos = s.here()
		if style == '|' && !s.eof() {
			s.emit([]byte{'\n'}, breakPos)
		}
		s.skipBreak()
	}
}
