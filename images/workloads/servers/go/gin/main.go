// Command gin answers the TechEmpower JSON test with Gin (release mode, no middleware).
//
// GET /json returns {"message":"Hello, World!"}, encoded by Gin's JSON renderer (encoding/json)
// on every request. The listen address comes from -addr or $ADDR (default 127.0.0.1:8080);
// -workers or $WORKERS (default 1) sets GOMAXPROCS.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"github.com/gin-gonic/gin"
)

type message struct {
	Message string `json:"message"`
}

func main() {
	addr, workers := settings()
	runtime.GOMAXPROCS(workers)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/json", func(c *gin.Context) {
		c.Header("Server", "gin")
		c.JSON(http.StatusOK, &message{Message: "Hello, World!"})
	})
	log.Printf("gin %s listening on %s with GOMAXPROCS=%d", gin.Version, addr, workers)
	log.Fatal(http.ListenAndServe(addr, r))
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
