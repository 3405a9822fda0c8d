module github.com/wsapi-go/wsapi

go 1.25.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/justinas/alice v1.2.0
)
