// Command echo answers the TechEmpower JSON test with Echo v4 (no middleware).
//
// GET /json returns {"message":"Hello, World!"}, encoded by Echo's default JSON serializer
// (encoding/json) on every request. The listen address comes from -addr or $ADDR (default
// 127.0.0.1:8080); -workers or $WORKERS (default 1) sets GOMAXPROCS.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"github.com/labstack/echo/v4"
)

type message struct {
	Message string `json:"message"`
}

func main() {
	addr, workers := settings()
	runtime.GOMAXPROCS(workers)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.GET("/json", func(c echo.Context) error {
		c.Response().Header().Set("Server", "echo")
		return c.JSON(http.StatusOK, &message{Message: "Hello, World!"})
	})
	log.Printf("echo %s listening on %s with GOMAXPROCS=%d", echo.Version, addr, workers)
	log.Fatal(http.ListenAndServe(addr, e))
}

// settings reads the listen address and worker count from the flags, then the environment.
func settings() (string, int) {
	defWorkers := 1
	if v := os.Getenv("WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "WORKERS=%q is not a number\n", v)
			os.Exit(2)
		}
		defWorkers = n
	}
	defAddr := "127.0.0.1:8080"
	if v := os.Getenv("ADDR"); v != "" {
		defAddr = v
	}
	addr := flag.String("addr", defAddr, "listen address host:port ($ADDR)")
	workers := flag.Int("workers", defWorkers, "GOMAXPROCS ($WORKERS)")
	flag.Parse()
	if *workers < 1 {
		fmt.Fprintln(os.Stderr, "the worker count must be at least 1")
		os.Exit(2)
	}
	return *addr, *workers
}
