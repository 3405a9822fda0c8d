package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fixed heads of the uploads' content. http.DetectContentType, which
// judges the type, reads signatures at the start and at a few offsets
// (application/vnd.ms-fontobject's "LP" at 34, video/mp4's "ftyp" at 4):
// random bytes there would now and then sniff as a refused type. After a
// fixed head of 40 bytes, nothing random is read but text or binary bytes.
const (
	textHead   = "soak test upload: plain text follows.\n\n\n"
	binaryHead = "\x01\x02SOAK\x00\x03 soak test upload: binary\x00\x00\x00\x00\x00\x00\x00"
)

// content returns n (at least 40) bytes of upload content, text or
// binary, and the file name to send it under.
func (v *vu) content(n int) ([]byte, string) {
	half := len(v.g.pool) / 2
	name := fmt.Sprintf("soak-%d-%d", v.n, v.seq)
	head, base, ext := textHead, 0, ".txt"
	if v.rng.IntN(2) == 1 {
		head, base, ext = binaryHead, half, ".bin"
	}
	off := base + v.rng.IntN(half-n+1)
	out := make([]byte, n)
	copy(out, v.g.pool[off:off+n])
	copy(out, head)
	return out, name + ext
}

// multipartBody returns a multipart body with one file.
func multipartBody(name string, data []byte) (io.Reader, int64) {
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
		"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	return io.MultiReader(strings.NewReader(head), bytes.NewReader(data), strings.NewReader(tail)),
		int64(len(head) + len(data) + len(tail))
}

func (v *vu) uploadRequest(path, name string, data []byte) *http.Request {
	body, n := multipartBody(name, data)
	req := v.newRequest(http.MethodPost, path, body)
	req.ContentLength = n
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	return req
}

// fileJSON is a file as the JSON answers describe it.
type fileJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
}

// checkUploaded checks a 201 JSON answer to an upload of one file.
func checkUploaded(a *answer, r *Record, name string, size int) (fileJSON, bool) {
	if a.status != http.StatusCreated {
		r.Problem = fmt.Sprintf("upload: want 201, got %d %s", a.status, short(a.body))
		return fileJSON{}, false
	}
	var out struct {
		Files []fileJSON `json:"files"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || len(out.Files) != 1 {
		r.Problem = fmt.Sprintf("upload: want JSON with one file, got %s", short(a.body))
		return fileJSON{}, false
	}
	f := out.Files[0]
	if f.ID == "" || f.Name != name || f.Size != int64(size) {
		r.Problem = fmt.Sprintf("upload: want %s of %d bytes, got %+v", name, size, f)
		return fileJSON{}, false
	}
	return f, true
}

// uploadJSON uploads a file as the page's JavaScript does, downloads it,
// compares the bytes, and deletes it.
func (v *vu) uploadJSON() {
	size := 1<<10 + v.rng.IntN(63<<10+1)
	data, name := v.content(size)
	req := v.uploadRequest("/files", name, data)
	req.Header.Set("Accept", "application/json")
	var file fileJSON
	var ok bool
	rec := v.ex(v.client, KindUpload, req, func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		file, ok = checkUploaded(a, r, name, size)
	})
	if rec.faultLike() {
		v.orphanNames = append(v.orphanNames, name)
	}
	if !ok {
		return
	}
	v.downloadAndDelete(file.ID, data)
}

// downloadAndDelete downloads a file, compares it with data, and deletes
// it.
func (v *vu) downloadAndDelete(id string, data []byte) {
	v.ex(v.client, KindDownload, v.page("/files/"+id), func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		switch {
		case a.status != http.StatusOK:
			r.Problem = fmt.Sprintf("download: want 200, got %d %s", a.status, short(a.body))
		case !bytes.Equal(a.body, data):
			r.Problem = fmt.Sprintf("download: got %d bytes that differ from the %d uploaded", len(a.body), len(data))
		case !strings.HasPrefix(a.header.Get("Content-Disposition"), "attachment"):
			r.Problem = "download: no Content-Disposition attachment"
		}
	})
	deleted := false
	defer func() {
		if !deleted {
			v.orphanIDs = append(v.orphanIDs, id)
		}
	}()
	if !v.loggedIn {
		return
	}
	req := v.newRequest(http.MethodPost, "/files/"+id+"/delete", nil)
	req.Header.Set("Accept", "text/html")
	v.ex(v.client, KindDelete, req, func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		if a.status != http.StatusSeeOther || a.location() != "/" {
			r.Problem = fmt.Sprintf("delete: want 303 to /, got %d %s", a.status, a.location())
			return
		}
		deleted = true
	})
}

// cleanUp deletes, through the API, the files this user uploaded but could
// not delete (a fault came in between), so the file list stays short: a
// list that grew all along would make every page slower and bigger.
func (v *vu) cleanUp() {
	if len(v.orphanNames) > 0 {
		var files []fileJSON
		v.ex(v.anon, KindAPIList, v.bearer(v.newRequest(http.MethodGet, "/api/files", nil)), func(a *answer, r *Record) {
			var out struct {
				Files []fileJSON `json:"files"`
			}
			if a.status != http.StatusOK || json.Unmarshal(a.body, &out) != nil || out.Files == nil {
				r.Problem = fmt.Sprintf("api list: want 200 {\"files\":[...]}, got %d %s", a.status, short(a.body))
				return
			}
			files = out.Files
		})
		if files == nil {
			return
		}
		for _, f := range files {
			if slices.Contains(v.orphanNames, f.Name) {
				v.orphanIDs = append(v.orphanIDs, f.ID)
			}
		}
		// A name not listed was never stored.
		v.orphanNames = v.orphanNames[:0]
	}
	var left []string
	for _, id := range v.orphanIDs {
		ok := false
		v.ex(v.anon, KindAPIDelete, v.bearer(v.newRequest(http.MethodDelete, "/api/files/"+id, nil)), func(a *answer, r *Record) {
			switch a.status {
			case http.StatusNoContent:
				ok = true
			case http.StatusNotFound:
				// Deleted after all: the answer to the delete was lost.
				ok = true
			default:
				r.Problem = fmt.Sprintf("api delete: want 204, got %d %s", a.status, short(a.body))
			}
		})
		if !ok {
			left = append(left, id)
		}
	}
	v.orphanIDs = left
}

// uploadForm posts a file as the no-JS form does: the answer is a
// redirect and the message goes to the session (a flash), which the next
// page shows once, with the new row; the file is then deleted.
func (v *vu) uploadForm() {
	size := 1<<10 + v.rng.IntN(63<<10+1)
	data, name := v.content(size)
	req := v.uploadRequest("/files", name, data)
	req.Header.Set("Accept", "text/html")
	ok := false
	rec := v.ex(v.client, KindFormUpload, req, func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		if a.status != http.StatusSeeOther || a.location() != "/" {
			r.Problem = fmt.Sprintf("form upload: want 303 to /, got %d %s", a.status, a.location())
			return
		}
		ok = true
	})
	if rec.faultLike() {
		v.orphanNames = append(v.orphanNames, name) // stored or not: cleanUp finds out
	}
	if !ok {
		return
	}
	var id string
	v.ex(v.client, KindFlash, v.page("/"), func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		if a.status != http.StatusOK {
			r.Problem = fmt.Sprintf("want 200, got %d %s", a.status, short(a.body))
			return
		}
		if p := checkFlash(a.body, name); p != "" {
			r.Problem = p
			return
		}
		id = rowID(a.body, name)
		if id == "" {
			r.Problem = "the page has no row for " + name
		}
	})
	switch {
	case id != "" && v.loggedIn:
		v.downloadAndDelete(id, data)
	case id != "":
		v.orphanIDs = append(v.orphanIDs, id)
	default:
		v.orphanNames = append(v.orphanNames, name)
	}
}

// rowID finds the data-id of the row whose file-name cell is name.
func rowID(page []byte, name string) string {
	i := bytes.Index(page, []byte(">"+name+"<"))
	if i < 0 {
		return ""
	}
	j := bytes.LastIndex(page[:i], []byte(`data-id="`))
	if j < 0 {
		return ""
	}
	rest := page[j+len(`data-id="`):]
	k := bytes.IndexByte(rest, '"')
	if k < 0 {
		return ""
	}
	return string(rest[:k])
}

// uploadTooLarge posts max-upload+1 bytes: 413, "too large".
func (v *vu) uploadTooLarge() {
	req := v.uploadRequest("/files", fmt.Sprintf("big-%d-%d.txt", v.n, v.seq), v.g.tooLarge)
	req.Header.Set("Accept", "application/json")
	v.ex(v.client, KindTooLarge, req, func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		var e struct {
			Error string `json:"error"`
		}
		if a.status != http.StatusRequestEntityTooLarge || json.Unmarshal(a.body, &e) != nil || !strings.Contains(e.Error, "too large") {
			r.Problem = fmt.Sprintf("want 413 too large, got %d %s", a.status, short(a.body))
		}
	})
}

// apiUpload uploads a small file with the bearer token, then (when the
// token's user is the demo user) deletes it through the session.
func (v *vu) apiUpload() {
	size := 64 + v.rng.IntN(4<<10)
	data, name := v.content(size)
	req := v.bearer(v.uploadRequest("/api/files", name, data))
	var file fileJSON
	var ok bool
	rec := v.ex(v.anon, KindAPIUpload, req, func(a *answer, r *Record) {
		file, ok = checkUploaded(a, r, name, size)
	})
	if rec.faultLike() {
		v.orphanNames = append(v.orphanNames, name)
	}
	if ok && apiUserIsDemo {
		v.downloadAndDelete(file.ID, data)
	}
}

// drop starts an upload on a socket of its own, sends the headers and part
// of the body, and hangs up. The server must log it, answer nobody, keep no
// temp file, and serve everybody else as usual.
func (v *vu) drop() {
	g := v.g
	size := 8<<10 + v.rng.IntN(56<<10)
	data, name := v.content(size)
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
		"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	total := len(head) + len(data) + len(tail)
	path := "/files"
	auth := ""
	if v.rng.IntN(2) == 0 {
		path = "/api/files"
		auth = "Authorization: Bearer " + g.token + "\r\n"
	} else {
		u, _ := url.Parse(g.base + "/")
		var cookies []string
		for _, c := range v.client.Jar.Cookies(u) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		if len(cookies) > 0 {
			auth = "Cookie: " + strings.Join(cookies, "; ") + "\r\n"
		}
	}
	id := v.nextID()
	rec := &Record{ID: id, Kind: KindDrop, Path: path, Start: g.since(), Reached: ReachMaybe}
	defer func() {
		rec.End = g.since()
		g.add(rec)
	}()
	c, err := net.DialTimeout("tcp", g.host, 10*time.Second)
	if err != nil {
		rec.Problem = "dial: " + err.Error()
		rec.Broken = true
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "POST " + path + " HTTP/1.1\r\nHost: " + g.host + "\r\nUser-Agent: soak\r\n" + auth +
		"Accept: application/json\r\nX-Request-ID: " + id + "\r\n" +
		"Content-Type: multipart/form-data; boundary=" + boundary + "\r\n" +
		"Content-Length: " + strconv.Itoa(total) + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		rec.Problem = "writing the headers: " + err.Error()
		rec.Broken = true
		return
	}
	// The header block is out: the server reads it before it sees the
	// end of the stream, whatever follows.
	rec.Reached = ReachYes
	part := append([]byte(head), data[:v.rng.IntN(len(data))]...)
	c.Write(part)
	if v.rng.IntN(2) == 0 {
		// Hang up while the server waits for the rest.
		time.Sleep(time.Duration(v.rng.IntN(300)) * time.Millisecond)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
