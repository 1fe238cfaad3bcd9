// hello prints a greeting and exits: the startup workload.
package main

import "fmt"

func main() {
	fmt.Println("Hello, World!")
}
