package main

import "os"

func main() { os.Exit(doMain(os.Args[1:])) }
