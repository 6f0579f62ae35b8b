package dsl
import ("fmt";"os";"testing")
func TestZZH(t *testing.T) {
	reg := &Registry{}
	reg.MustRegister(Action{Name: "http.request", Input: []byte(`{"type":"object","required":["url"],"additionalProperties":false,"properties":{"url":{"type":"string"},"method":{"enum":["GET","POST","PUT","DELETE"]},"headers":{"type":"object"},"body":{},"timeout":{"type":"string"}}}`)})
	for _, f := range []string{"testdata/full.yaml","testdata/full.json"} {
		src, _ := os.ReadFile(f)
		p, ds := Compile(f, src, Options{Registry: reg})
		fmt.Println(ds)
		if p != nil { fmt.Println(p.Hash) }
	}
}
