module github.com/wsapi-go/wsapi

go 1.25.0
