package crm

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func TestDocumentIsBounded(t *testing.T) {
	tpl, err := ParseTemplate("big", `{{range .Quote.LineItems}}{{range $.Quote.LineItems}}`+strings.Repeat("x", 40)+`{{end}}{{end}}`)
	require.NoError(t, err, "small with the sample data")
	d := sampleDocument()
	for range 199 {
		d.Quote.LineItems = append(d.Quote.LineItems, d.Quote.LineItems[0])
	}
	_, err = render(tpl, d) // 200 × 200 × 40 bytes > 1 MiB
	var ve *domain.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	require.Contains(t, ve.Fields[0].Message, "larger than 1048576 bytes")
}

func TestDocumentEscapesData(t *testing.T) {
	tpl, err := ParseTemplate("t", `<p title="{{.Customer.Name}}">{{.Customer.Name}}</p><a href="{{.Customer.Email}}">x</a>`)
	require.NoError(t, err)
	d := sampleDocument()
	d.Customer.Name = `"><script>alert(1)</script>`
	d.Customer.Email = "javascript:alert(1)"
	doc, err := render(tpl, d)
	require.NoError(t, err)
	require.NotContains(t, doc, "<script>")
	require.NotContains(t, doc, `href="javascript:`)
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", DocumentHash("abc"), "the SHA-256 test vector")
	require.Len(t, DocumentHash(doc), 64)
}
