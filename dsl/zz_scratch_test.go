package dsl

import (
	"fmt"
	"os"
	"testing"
)

func TestZZScratch(t *testing.T) {
	src, _ := os.ReadFile(os.Getenv("SRC"))
	reg := &Registry{}
	reg.MustRegister(Action{Name: "http.request", Input: []byte(`{"type":"object","required":["url"],"additionalProperties":false,"properties":{"url":{"type":"string"},"method":{"enum":["GET","POST","PUT","DELETE"]},"headers":{"type":"object"},"body":{},"timeout":{"type":"string"}}}`)})
	p, ds := Compile("wf.yaml", src, Options{Registry: reg})
	for _, d := range ds {
		fmt.Println(d)
	}
	if p != nil {
		fmt.Println("OK", p.Hash)
	}
}
