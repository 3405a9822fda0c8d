package upload

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// urlencodedStart is the most an urlencoded body's buffer starts with,
// whatever the Content-Length says: it grows as the bytes arrive.
const urlencodedStart = 64 << 10

// parseURLEncoded reads an application/x-www-form-urlencoded body of at
// most MaxURLEncodedBytes and MaxPairs pairs into form.
func (c *config) parseURLEncoded(st *state, r *http.Request, form *Form) *Error {
	if r.ContentLength > c.lim.urlencoded {
		return limitError("MaxURLEncodedBytes", c.lim.urlencoded, "the form body is too large")
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body := bodyReader{r: r.Body, max: c.lim.urlencoded, declared: r.ContentLength, limit: "MaxURLEncodedBytes", prog: st.prog, stop: &st.stop}
	data, err := readBody(&body, r.ContentLength, c.lim.urlencoded)
	if err != nil {
		return asError(err, "the form body ended early")
	}
	st.bodyBytes = body.n
	return parsePairs(data, c.lim.pairs, form.Values)
}

// readBody reads body to its end. The buffer starts at the Content-Length
// (declared, or -1) up to urlencodedStart, and doubles as it fills, up to
// the Content-Length or one byte over max: memory follows the bytes that
// arrived, never what the client announced.
func readBody(body io.Reader, declared, max int64) ([]byte, error) {
	end := max + 1
	if declared >= 0 {
		end = declared
	}
	buf := make([]byte, 0, min(end, urlencodedStart))
	for int64(len(buf)) < end {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), end))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// parsePairs parses key=value pairs separated by "&" into v, refusing more
// than maxPairs of them. Empty pairs are skipped; a key without "=" has an
// empty value.
func parsePairs(data []byte, maxPairs int, v url.Values) *Error {
	n := 0
	for len(data) > 0 {
		var pair []byte
		if i := bytes.IndexByte(data, '&'); i >= 0 {
			pair, data = data[:i], data[i+1:]
		} else {
			pair, data = data, nil
		}
		if len(pair) == 0 {
			continue
		}
		if n++; n > maxPairs {
			return limitError("MaxPairs", int64(maxPairs), "the form has too many fields")
		}
		k, val, _ := bytes.Cut(pair, []byte{'='})
		key, err := url.QueryUnescape(string(k))
		if err != nil {
			return malformed("the form has an invalid %-escape")
		}
		value, err := url.QueryUnescape(string(val))
		if err != nil {
			return malformed("the form has an invalid %-escape")
		}
		v[key] = append(v[key], value)
	}
	return nil
}
