package eval

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A grade input line is almost always one flat object of a few string
// fields, and almost all of its bytes are the completion. encoding/json
// checks such a line's validity twice (the line, then the raw value of
// each field) before unquoting; fastObject reads it in one pass, with the
// strings unescaped into one buffer, and gives up (ok false) on anything it
// does not handle — a nested value, invalid UTF-8, a duplicate key, a key
// that differs from a wanted one only in case — leaving the line to encoding/json, which decides
// it and words its errors. What fastObject accepts, encoding/json reads the
// same way (FuzzGradeLine holds it to that).

// fastField is one top-level field as fastObject read it: its raw bytes,
// and a string's unescaped value.
type fastField struct {
	key    string
	str    string
	raw    []byte
	isText bool
}

// fastObject reads a flat JSON object into fields. With scratch, its
// strings share line and *scratch, which is reused (see scanner.str).
func fastObject(line []byte, fields []fastField, scratch *[]byte) ([]fastField, bool) {
	s := scanner{b: line}
	if scratch != nil {
		s.buf, s.alias = (*scratch)[:0], true
		defer func() { *scratch = s.buf }()
	}
	if !s.eat('{') {
		return nil, false
	}
	fields = fields[:0]
	if s.eat('}') {
		return fields, s.end()
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.eat(':') {
			return nil, false
		}
		for _, f := range fields {
			if f.key == key {
				return nil, false // encoding/json keeps the last; leave it to it
			}
		}
		f := fastField{key: key}
		s.ws()
		switch {
		case s.i < len(s.b) && s.b[s.i] == '"':
			start := s.i
			if f.str, ok = s.text(); !ok {
				return nil, false
			}
			f.raw, f.isText = s.b[start:s.i], true
		default:
			if f.raw, ok = s.scalar(); !ok {
				return nil, false
			}
		}
		fields = append(fields, f)
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return fields, s.end()
		}
		return nil, false
	}
}

type scanner struct {
	b     []byte
	i     int
	buf   []byte // unescaped strings
	alias bool   // strings share b and buf (str)
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// plainString reads a string without escapes (a key).
func (s *scanner) plainString() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			for _, k := range gradeKeys { // the keys a grade line has, without allocating
				if string(v) == k {
					return k, true
				}
			}
			return string(v), utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return "", false
		}
		s.i++
	}
	return "", false
}

// text reads a string value, unescaping it into the scanner's buffer.
// The string's bytes and the buffer are held in locals, and the buffer
// is sized for the whole rest of the line up front (unescaping never
// lengthens a string), so the loop writes without growing anything.
func (s *scanner) text() (string, bool) {
	b := s.b
	i := s.i + 1 // past the opening quote
	start := i
	var buf []byte // the unescaped string, once there is an escape
	w := 0
	for {
		j := plainRun(b, i)
		if buf != nil {
			w += copy(buf[w:], b[i:j])
		}
		i = j
		if j == len(b) {
			return "", false
		}
		switch c := b[j]; {
		case c == '"':
			s.i = j + 1
			if buf == nil {
				return s.str(b[start:j]), true
			}
			off := len(s.buf)
			s.buf = s.buf[:off+w]
			return s.str(s.buf[off:]), true
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return "", false // encoding/json writes U+FFFD for it: its call
			}
			if buf != nil {
				w += copy(buf[w:], b[j:j+size])
			}
			i += size
			continue
		}
		// A backslash.
		if buf == nil {
			s.buf = slices.Grow(s.buf, len(b)-start)
			buf = s.buf[len(s.buf) : len(s.buf)+len(b)-start]
			w = copy(buf, b[start:j])
		}
		if j+1 == len(b) {
			return "", false
		}
		e := b[j+1]
		switch e {
		case '"', '\\', '/':
		case 'n':
			e = '\n'
		case 't':
			e = '\t'
		case 'r':
			e = '\r'
		case 'b':
			e = '\b'
		case 'f':
			e = '\f'
		case 'u':
			r, n := s.u4(j)
			if n == 0 {
				return "", false
			}
			w += utf8.EncodeRune(buf[w:], r)
			i += n
			continue
		default:
			return "", false
		}
		buf[w] = e
		w++
		i += 2
	}
}

// str is b as a string: a copy, or with alias set b itself, which the
// caller keeps unchanged for as long as it uses the string (GradeJSONL
// grades a line before it reads the next into the same memory).
func (s *scanner) str(b []byte) string {
	if !s.alias {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// plainRun is the index of the first byte from i on that a string cannot
// copy as it is: a quote, a backslash, a control character or a byte of a
// multi-byte character, or len(b). Eight bytes are tested at a time.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		// Flags every special byte, and sometimes bytes above one (a
		// borrow runs upwards only), so the lowest flag is a special byte.
		special := ((quote-ones)&^quote | (backslash-ones)&^backslash | (x - ones*0x20) | x) & highs
		if special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for ; i < len(b); i++ {
		if isSpecial(b[i]) {
			return i
		}
	}
	return i
}

func isSpecial(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf }

// u4 reads the \uXXXX escape at s.b[i] as encoding/json does: a valid
// surrogate pair is one rune, a lone surrogate U+FFFD. n is the bytes
// read, 0 when the escape is malformed.
func (s *scanner) u4(i int) (r rune, n int) {
	r = hex4(s.b, i)
	if r < 0 {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if dec := utf16.DecodeRune(r, hex4(s.b, i+6)); dec != unicode.ReplacementChar {
			return dec, 12
		}
		return unicode.ReplacementChar, 6
	}
	return r, 6
}

// hex4 is the code of the \uXXXX at b[i], or −1.
func hex4(b []byte, i int) rune {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[i+2 : i+6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// scalar reads a number, true, false or null.
func (s *scanner) scalar() ([]byte, bool) {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ',' || c == '}' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		s.i++
	}
	v := s.b[start:s.i]
	switch string(v) {
	case "true", "false", "null":
		return v, true
	}
	if len(v) == 0 || !json.Valid(v) {
		return nil, false
	}
	if _, err := strconv.ParseFloat(string(v), 64); err != nil {
		return nil, false
	}
	return v, true
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// with HTML escaping off: invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// gradeKeys are the fields of a grade line.
var gradeKeys = [...]string{"id", "completion", "answer"}

// fastGradeLine is ParseGradeLine's fast path; ok is false when the line
// is for encoding/json to decide.
func fastGradeLine(line []byte, scratch *[]byte) (GradeInput, bool) {
	var buf [8]fastField
	fields, ok := fastObject(line, buf[:0], scratch)
	if !ok {
		return GradeInput{}, false
	}
	var in GradeInput
	var haveCompletion, haveAnswer bool
	for _, f := range fields {
		switch f.key {
		case "id":
			if string(f.raw) != "null" {
				in.ID = f.raw
			}
		case "completion":
			if !f.isText {
				return GradeInput{}, false
			}
			in.Completion, haveCompletion = f.str, true
		case "answer":
			switch {
			case f.isText:
				in.Answer = f.str
			case string(f.raw) == "true" || string(f.raw) == "false" || string(f.raw) == "null":
				return GradeInput{}, false
			default:
				in.Answer = string(f.raw)
			}
			haveAnswer = true
		default:
			for _, k := range gradeKeys {
				if strings.EqualFold(f.key, k) {
					return GradeInput{}, false // encoding/json matches keys without case
				}
			}
		}
	}
	return in, haveCompletion && haveAnswer
}

// appendGradeOutput appends o as one JSONL line, as encoding/json's
// Encoder writes it with HTML escaping off.
func appendGradeOutput(dst []byte, o GradeOutput) []byte {
	dst = append(dst, '{')
	if len(o.ID) > 0 {
		dst = append(dst, `"id":`...)
		dst = appendCompact(dst, o.ID)
		dst = append(dst, ',')
	}
	if o.Sample != nil {
		dst = append(dst, `"sample":`...)
		dst = strconv.AppendInt(dst, int64(*o.Sample), 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"correct":`...)
	dst = strconv.AppendBool(dst, o.Correct)
	dst = append(dst, `,"extracted":`...)
	dst = appendJSONString(dst, o.Extracted)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, o.Reason)
	return append(dst, '}', '\n')
}

// appendCompact appends a raw JSON value without its insignificant space.
func appendCompact(dst, raw []byte) []byte {
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return append(dst, raw...)
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return append(dst, raw...)
	}
	return append(dst, b.Bytes()...)
}
