// Command fasthttp answers the TechEmpower JSON test with valyala/fasthttp.
//
// GET /json returns {"message":"Hello, World!"}, encoded with encoding/json on every request;
// fasthttp adds the Date header and the Server header (its Name). The listen address comes
// from -addr or $ADDR (default 127.0.0.1:8080); -workers or $WORKERS (default 1) sets
// GOMAXPROCS.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"

	"github.com/valyala/fasthttp"
)

type message struct {
	Message string `json:"message"`
}

func handler(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) != "/json" {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	body, err := json.Marshal(&message{Message: "Hello, World!"})
	if err != nil {
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

func main() {
	addr, workers := settings()
	runtime.GOMAXPROCS(workers)
	s := &fasthttp.Server{Handler: handler, Name: "fasthttp"}
	log.Printf("fasthttp listening on %s with GOMAXPROCS=%d", addr, workers)
	log.Fatal(s.ListenAndServe(addr))
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
