// Command switchboard is the Switchboard CLI: run, validate, schema, dev.
package main

import "switchboard/cli"

func main() { cli.Main() }
