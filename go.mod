module github.com/wsapi-go/wsapi

go 1.25.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/justinas/alice v1.2.0
	github.com/rs/xid v1.6.0
	github.com/rs/zerolog v1.35.1
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
