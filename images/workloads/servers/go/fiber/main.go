// Command fiber answers the TechEmpower JSON test with Fiber v2 (on fasthttp, no prefork).
//
// GET /json returns {"message":"Hello, World!"}, encoded by Fiber's JSON encoder
// (encoding/json) on every request; fasthttp underneath adds the Date header. The listen
// address comes from -addr or $ADDR (default 127.0.0.1:8080); -workers or $WORKERS
// (default 1) sets GOMAXPROCS.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

type message struct {
	Message string `json:"message"`
}

func main() {
	addr, workers := settings()
	runtime.GOMAXPROCS(workers)
	app := fiber.New(fiber.Config{
		ServerHeader:          "fiber",
		DisableStartupMessage: true,
	})
	app.Get("/json", func(c *fiber.Ctx) error {
		return c.JSON(&message{Message: "Hello, World!"})
	})
	log.Printf("fiber %s listening on %s with GOMAXPROCS=%d", fiber.Version, addr, workers)
	log.Fatal(app.Listen(addr))
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
