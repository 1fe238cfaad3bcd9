// lang reports what the Go runtime and standard library of its image say about the language,
// for the lang suite of appliance bench. One figure per call, on standard output:
//
//	lang version      the runtime's version, as runtime.Version() reports it ("go1.23.4")
//	lang keywords     Go's keywords, from go/token: every token t for which t.IsKeyword()
//	                  and token.IsKeyword(t.String()) hold and token.Lookup gives t back,
//	                  on one line, separated by spaces
//	lang stack N      starts N goroutines that block on a channel, and prints, before and
//	                  after, the runtime's stack memory (runtime.MemStats.StackInuse) and the
//	                  process's private memory (Private_Clean + Private_Dirty of
//	                  /proc/self/smaps_rollup), one "name value" line each
package main

import (
	"bufio"
	"fmt"
	"go/token"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// maxToken bounds the search through go/token's tokens (they number under a hundred).
const maxToken = 1024

func keywords() []string {
	var kw []string
	for t := token.Token(0); t < maxToken; t++ {
		s := t.String()
		if t.IsKeyword() && token.IsKeyword(s) && token.Lookup(s) == t {
			kw = append(kw, s)
		}
	}
	return kw
}

// privateBytes is the process's private memory: Private_Clean + Private_Dirty of
// /proc/self/smaps_rollup, in bytes.
func privateBytes() (int64, error) {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" ||
			(fields[0] != "Private_Clean:" && fields[0] != "Private_Dirty:") {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("smaps_rollup: %q: %v", sc.Text(), err)
		}
		total += kb * 1024
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if found != 2 {
		return 0, fmt.Errorf("smaps_rollup: no Private_Clean and Private_Dirty lines")
	}
	return total, nil
}

func stack(n int) error {
	runtime.GC()
	before, err := privateBytes()
	if err != nil {
		return err
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	g0 := runtime.NumGoroutine()
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-block
		}()
	}
	started.Wait()
	runtime.ReadMemStats(&ms1)
	after, err := privateBytes()
	if err != nil {
		return err
	}
	// Every goroutine is counted, parked or on its way to park: each has its stack.
	fmt.Printf("goroutines %d\n", runtime.NumGoroutine()-g0)
	fmt.Printf("stack_inuse_before %d\nstack_inuse_after %d\n", ms0.StackInuse, ms1.StackInuse)
	fmt.Printf("private_before %d\nprivate_after %d\n", before, after)
	close(block)
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: lang version | lang keywords | lang stack N")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch {
	case os.Args[1] == "version" && len(os.Args) == 2:
		fmt.Println(runtime.Version())
	case os.Args[1] == "keywords" && len(os.Args) == 2:
		fmt.Println(strings.Join(keywords(), " "))
	case os.Args[1] == "stack" && len(os.Args) == 3:
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < 1 || n > 10000000 {
			fmt.Fprintln(os.Stderr, "lang: N must be a whole number from 1 to 10000000")
			os.Exit(2)
		}
		if err := stack(n); err != nil {
			fmt.Fprintln(os.Stderr, "lang:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}
