// Command chi answers the TechEmpower JSON test with the chi v5 router on net/http.
//
// GET /json returns {"message":"Hello, World!"}, encoded with encoding/json on every request.
// The listen address comes from -addr or $ADDR (default 127.0.0.1:8080); -workers or
// $WORKERS (default 1) sets GOMAXPROCS.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"github.com/go-chi/chi/v5"
)

type message struct {
	Message string `json:"message"`
}

func jsonHandler(w http.ResponseWriter, r *http.Request) {
	body, err := json.Marshal(&message{Message: "Hello, World!"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Server", "chi")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func main() {
	addr, workers := settings()
	runtime.GOMAXPROCS(workers)
	r := chi.NewRouter()
	r.Get("/json", jsonHandler)
	log.Printf("chi listening on %s with GOMAXPROCS=%d", addr, workers)
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
