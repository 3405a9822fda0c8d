package upload

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// parseURLEncoded reads an application/x-www-form-urlencoded body of at
// most MaxURLEncodedBytes and MaxPairs pairs into form.
func (c *config) parseURLEncoded(st *state, form *Form) *Error {
	r := st.r
	if r.ContentLength > c.lim.urlencoded {
		return limitError("MaxURLEncodedBytes", c.lim.urlencoded, "the form body is too large")
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body := &bodyReader{r: r.Body, max: c.lim.urlencoded, declared: r.ContentLength, limit: "MaxURLEncodedBytes", prog: st.prog}
	buf := make([]byte, 0, min(max(r.ContentLength, 512), c.lim.urlencoded+1))
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(body); err != nil && err != io.EOF {
		return asError(err, "the form body ended early")
	}
	return parsePairs(b.Bytes(), c.lim.pairs, form.Values)
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
