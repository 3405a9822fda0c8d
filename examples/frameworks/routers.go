package main

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"

	"github.com/wsapi-go/wsapi/adapters/wsecho"
	"github.com/wsapi-go/wsapi/adapters/wsgin"
	"github.com/wsapi-go/wsapi/filters/auth"
)

// The routers, each written as its users write it, with the same filters
// and the same routes.

// Routers lists the routers by name, for the -router flag.
var Routers = map[string]func(*Filters) http.Handler{
	"servemux": NewServeMux,
	"chi":      NewChi,
	"echo":     NewEcho,
	"gin":      NewGin,
}

// NewServeMux serves the routes with net/http's ServeMux, behind the stack.
func NewServeMux(f *Filters) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, index)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		body, err := countVisit(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, body)
	})
	mux.Handle("POST /login", f.Auth.LoginHandler())
	mux.Handle("POST /logout", f.Auth.LogoutHandler())
	mux.Handle("GET /me", auth.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, whoAmI(r))
	})))
	mux.HandleFunc("POST /upload", handleUpload)
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		streamLines(w)
	})
	mux.HandleFunc("GET /teapot", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, teapot, http.StatusTeapot)
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("the /panic route") })
	return f.Stack().Then(mux)
}

// NewChi serves the routes with chi, the stack as its middleware.
func NewChi(f *Filters) http.Handler {
	r := chi.NewRouter()
	r.Use(f.Stack().Wrap)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, index)
	})
	r.Get("/count", func(w http.ResponseWriter, r *http.Request) {
		body, err := countVisit(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, body)
	})
	r.Method("POST", "/login", f.Auth.LoginHandler())
	r.Method("POST", "/logout", f.Auth.LogoutHandler())
	r.With(auth.Require().Wrap).Get("/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, whoAmI(r))
	})
	r.Post("/upload", handleUpload)
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		streamLines(w)
	})
	r.Get("/teapot", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, teapot, http.StatusTeapot)
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) { panic("the /panic route") })
	return r
}

// NewEcho serves the routes with echo, the stack through wsecho. Handlers
// return errors, as echo's do; the error handler answers them as
// http.Error would, inside the filters.
func NewEcho(f *Filters) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		msg := http.StatusText(code)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		}
		http.Error(c.Response(), msg, code)
	}
	e.Use(wsecho.Stack(f.Stack()))
	e.GET("/", func(c echo.Context) error {
		return c.String(http.StatusOK, index)
	})
	e.GET("/count", func(c echo.Context) error {
		body, err := countVisit(c.Request())
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, body)
	})
	e.POST("/login", echo.WrapHandler(f.Auth.LoginHandler()))
	e.POST("/logout", echo.WrapHandler(f.Auth.LogoutHandler()))
	e.GET("/me", func(c echo.Context) error {
		return c.String(http.StatusOK, whoAmI(c.Request()))
	}, wsecho.Middleware(auth.Require()))
	e.POST("/upload", echo.WrapHandler(http.HandlerFunc(handleUpload)))
	e.GET("/stream", func(c echo.Context) error {
		c.Response().Header().Set("Content-Type", "text/plain; charset=utf-8")
		streamLines(c.Response())
		return nil
	})
	e.GET("/teapot", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusTeapot, teapot)
	})
	e.GET("/panic", func(c echo.Context) error { panic("the /panic route") })
	return e
}

// NewGin serves the routes with gin, the stack through wsgin.
func NewGin(f *Filters) http.Handler {
	r := gin.New()
	r.Use(wsgin.Stack(f.Stack()))
	r.GET("/", func(c *gin.Context) {
		c.String(http.StatusOK, index)
	})
	r.GET("/count", func(c *gin.Context) {
		body, err := countVisit(c.Request)
		if err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, body)
	})
	r.POST("/login", gin.WrapH(f.Auth.LoginHandler()))
	r.POST("/logout", gin.WrapH(f.Auth.LogoutHandler()))
	r.GET("/me", wsgin.Middleware(auth.Require()), func(c *gin.Context) {
		c.String(http.StatusOK, whoAmI(c.Request))
	})
	r.POST("/upload", gin.WrapF(handleUpload))
	r.GET("/stream", func(c *gin.Context) {
		c.Header("Content-Type", "text/plain; charset=utf-8")
		streamLines(c.Writer)
	})
	r.GET("/teapot", func(c *gin.Context) {
		c.String(http.StatusTeapot, teapot+"\n")
	})
	r.GET("/panic", func(c *gin.Context) { panic("the /panic route") })
	return r
}
