package session

import (
	"net/http"

	"github.com/wsapi-go/wsapi/filter"
)

// service is the session filter's [filter.Sessions]: the package's
// accessors, offered through the exchange to filters that do not import
// this package (auth's session login). It has no state, so registering it
// on a request allocates nothing.
type service struct{}

// sessions is the value the filter registers on each request.
var sessions filter.Sessions = service{}

var _ filter.Sessions = service{}

func (service) GetString(r *http.Request, key string) string { return GetString(r, key) }

func (service) Put(r *http.Request, key string, val any) error { return Put(r, key, val) }

func (service) Remove(r *http.Request, key string) error { return Remove(r, key) }

func (service) RenewToken(r *http.Request) error { return RenewToken(r) }

func (service) Destroy(r *http.Request) error { return Destroy(r) }
