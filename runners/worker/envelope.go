package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// envelope is one message's top level: a request's id, method and params
// or a response's id and result or error, and the length of the binary
// attachment that follows its line (PROTOCOL.md, "Binary attachments").
type envelope struct {
	ID     uint64
	Method string
	Body   []byte // params or result as raw JSON, a slice of the line; nil when absent
	Error  *Error
	Bin    int
}

// parseEnvelope splits a line into its envelope's members in one pass that
// also validates the whole line as JSON, so the body is decoded exactly
// once, by its method's type, and never copied, re-scanned or compacted.
// Anything unusual — an escaped or case-folded key, a repeated member, an
// id that is not a plain integer, a line that is not JSON — goes to the
// slow path, encoding/json's reading of the same line, which then accepts
// or refuses exactly as it always did and words the error.
// FuzzEnvelope holds the two to the same answers.
func parseEnvelope(line []byte, request bool) (envelope, error) {
	if env, ok := fastEnvelope(line, request); ok {
		return env, nil
	}
	return slowEnvelope(line, request)
}

// slowEnvelope is encoding/json's reading of a line.
func slowEnvelope(line []byte, request bool) (envelope, error) {
	if request {
		var r Request
		if err := strictUnmarshal(line, &r); err != nil {
			return envelope{}, err
		}
		return envelope{ID: r.ID, Method: r.Method, Body: nilIfEmpty(r.Params), Bin: r.Bin}, nil
	}
	var r Response
	if err := strictUnmarshal(line, &r); err != nil {
		return envelope{}, err
	}
	return envelope{ID: r.ID, Body: nilIfEmpty(r.Result), Error: r.Error, Bin: r.Bin}, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// fastEnvelope parses the usual line; ok is false whenever the slow path
// must decide.
func fastEnvelope(line []byte, request bool) (env envelope, ok bool) {
	s := scanner{b: line}
	body := "result"
	if request {
		body = "params"
	}
	var seen uint8 // bit i: member i of members() was read
	s.ws()
	ok = s.object(func(raw []byte) bool {
		if bytes.IndexByte(raw, '\\') >= 0 {
			return false // an escaped key: json's to read
		}
		start := s.i
		if !s.value(0) {
			return false
		}
		val := line[start:s.i]
		key := string(raw)
		m := member(key, request)
		switch {
		case m < 0:
			return !folds(key, request) // unknown: ignored, as json ignores it, unless json would match its case
		case seen&(1<<m) != 0:
			return false // json merges repeated members its own way
		}
		seen |= 1 << m
		switch key {
		case "id", "bin":
			n, ok := plainUint(val)
			if !ok {
				return false // null, a fraction, an exponent, a sign, too large: json's words
			}
			if key == "id" {
				env.ID = n
			} else {
				env.Bin = int(n)
			}
		case "method":
			if !plainASCII(val) {
				return false // not a string, or one json would unescape or mend
			}
			env.Method = string(val[1 : len(val)-1])
		case body:
			env.Body = val
		case "error":
			if string(val) != "null" {
				var e Error
				if json.Unmarshal(val, &e) != nil {
					return false
				}
				env.Error = &e
			}
		}
		return true
	})
	return env, ok && s.end()
}

// plainASCII reports whether val is a string of printable ASCII without
// escapes: its bytes between the quotes are its value.
func plainASCII(val []byte) bool {
	if len(val) < 2 || val[0] != '"' {
		return false
	}
	for _, c := range val[1 : len(val)-1] {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// The members of a request and of a response.
var (
	requestMembers  = []string{"id", "method", "params", "bin"}
	responseMembers = []string{"id", "result", "error", "bin"}
)

func members(request bool) []string {
	if request {
		return requestMembers
	}
	return responseMembers
}

// member is key's index among the members, or -1.
func member(key string, request bool) int {
	for i, m := range members(request) {
		if key == m {
			return i
		}
	}
	return -1
}

// folds reports whether key is a member in another case.
func folds(key string, request bool) bool {
	for _, m := range members(request) {
		if len(key) == len(m) && bytes.EqualFold([]byte(key), []byte(m)) {
			return true
		}
	}
	return false
}

// plainUint reads a JSON number of at most 18 digits without a sign,
// fraction or exponent (every id and length a sane peer writes); the slow
// path reads the rest.
func plainUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// plainUint64 is plainUint over the whole uint64 range: a sampling seed is
// drawn from all of it, so most have 19 or 20 digits, and the fast readers
// gave every generate request to encoding/json until they read them too.
func plainUint64(b []byte) (uint64, bool) {
	if len(b) <= 18 {
		return plainUint(b)
	}
	if len(b) > 20 || b[0] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false // json's error: the value overflows uint64
		}
		n = n*10 + d
	}
	return n, true
}

// appendRequest writes a request line (without its newline): the params
// are already JSON and go in as they are, never compacted again.
func appendRequest(dst []byte, id uint64, method string, params []byte, bin int) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"method":`...)
	dst = strconv.AppendQuote(dst, method) // method names are ASCII letters: Go's quoting is JSON's
	if params != nil {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return appendBin(dst, bin)
}

// appendResponse writes a response line (without its newline).
func appendResponse(dst []byte, id uint64, result []byte, e *Error, bin int) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	if e != nil {
		data, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		dst = append(dst, `,"error":`...)
		dst = append(dst, data...)
		return append(dst, '}'), nil
	}
	if result == nil {
		return nil, errors.New("a response without a result or an error")
	}
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)
	return appendBin(dst, bin), nil
}

func appendBin(dst []byte, bin int) []byte {
	if bin > 0 {
		dst = append(dst, `,"bin":`...)
		dst = strconv.AppendInt(dst, int64(bin), 10)
	}
	return append(dst, '}')
}
