package filtertest

import (
	"bytes"
	"fmt"
	"maps"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// File is a file in a multipart form, for [PostMultipart] and
// [MultipartBody].
type File struct {
	// Field is the form field name the file is sent under.
	Field string
	// Name is the file name the client reports; it may be empty.
	Name string
	// ContentType is the part's Content-Type; "" means
	// "application/octet-stream".
	ContentType string
	// Content is the file's content.
	Content []byte
}

// MultipartBody returns a multipart/form-data body with fields, then files,
// and the Content-Type to send it with (boundary included). Fields are
// written in sorted key order, each key's values in order, and files in the
// order given, so the same arguments always give the same bytes. The
// boundary is fixed ("filtertest-boundary"), with a number added when it
// would occur in the content.
func MultipartBody(fields url.Values, files ...File) (body []byte, contentType string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(boundaryFor(fields, files)); err != nil {
		panic("filtertest: " + err.Error()) // the boundary is ours; cannot happen
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		for _, v := range fields[k] {
			// Writes to a bytes.Buffer do not fail.
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
			quoteEscaper.Replace(f.Field), quoteEscaper.Replace(f.Name)))
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.Content)
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// quoteEscaper escapes a name inside a quoted Content-Disposition
// parameter, as mime/multipart does.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// boundaryFor returns the first of "filtertest-boundary",
// "filtertest-boundary-1", ... that occurs nowhere in the form.
func boundaryFor(fields url.Values, files []File) string {
	const base = "filtertest-boundary"
	occurs := func(b string) bool {
		for k, vv := range fields {
			if strings.Contains(k, b) || slices.ContainsFunc(vv, func(v string) bool { return strings.Contains(v, b) }) {
				return true
			}
		}
		for _, f := range files {
			if strings.Contains(f.Field, b) || strings.Contains(f.Name, b) ||
				strings.Contains(f.ContentType, b) || bytes.Contains(f.Content, []byte(b)) {
				return true
			}
		}
		return false
	}
	b := base
	for i := 1; occurs(b); i++ {
		b = base + "-" + strconv.Itoa(i)
	}
	return b
}
