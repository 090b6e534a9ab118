// Command hello is a Go program for differential testing of the CPU: it
// exercises the Go runtime (goroutines on several threads, channels, the
// garbage collector, maps) and prints deterministic results.
package main

import (
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	results := make([]uint64, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := uint64(i)
			for j := 0; j < 200000; j++ {
				h = h*6364136223846793005 + 1442695040888963407
			}
			results[i] = h
		}()
	}
	wg.Wait()
	fmt.Println(results)

	ch := make(chan int)
	go func() {
		for i := 0; i < 100; i++ {
			ch <- i * i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("sum", sum)

	m := map[string]int{}
	var garbage [][]byte
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("key%d", i%777)
		m[k] += i
		garbage = append(garbage, make([]byte, 100+i%300))
		if len(garbage) > 500 {
			garbage = garbage[:0]
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(len(keys), keys[:5], m[keys[0]], m[keys[len(keys)-1]])
	fmt.Printf("%x\n", sha256.Sum256([]byte(strings.Repeat("wasmrt", 1000))))
	fmt.Println(math.Sqrt(2), math.Exp(1.5), math.Sin(1e10), float32(1)/3, math.MaxFloat64, math.SmallestNonzeroFloat64)
	fmt.Printf("%.30f %v %v\n", math.Pi, math.Inf(1), -math.Float64frombits(0x7ff8000000000001))
}
