package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// MaxImportRows bounds one import request; import more in several.
const MaxImportRows = 5000

// csvColumns are the columns a customer CSV may have (besides custom.*).
var csvColumns = []string{"name", "email", "phone", "company", "title", "status", "type", "source", "ownerId", "tags",
	"lifetimeValue.amount", "lifetimeValue.currency", "address.line1", "address.line2", "address.city", "address.region",
	"address.postalCode", "address.country", "health.score"}

func (s *Server) importRoutes() {
	svc := &crm.Service{Store: s.store}
	type importInput struct {
		OnConflict  string `query:"onConflict" enum:"fail,skip,update" doc:"A row whose email a customer has: fail (default), skip it, or update that customer with the row's non-empty fields"`
		DryRun      bool   `query:"dryRun" doc:"Check and count, write nothing"`
		ContentType string `header:"Content-Type"`
		RawBody     []byte `contentType:"text/csv" doc:"CSV with a header row (name, email, phone, company, title, status, type, source, ownerId, tags separated by ;, lifetimeValue.amount in minor units, lifetimeValue.currency, address.*, health.score, custom.<field>), or a JSON array of customers"`
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "import-customers", Method: http.MethodPost, Path: "/v1/customers/import",
		Summary: "Import customers from CSV or JSON, all or nothing", Tags: []string{"customers"}, MaxBodyBytes: 8 << 20,
		Description: fmt.Sprintf("Up to %d rows. Every row is checked first; any problem answers 422 with one `errors[]` entry per problem "+
			"(`location: rows[<row>].<field>`, the row being the CSV line or the JSON index) and imports nothing. "+
			"Otherwise all rows are imported in one transaction, each emitting `customer.created` (or `customer.updated`).", MaxImportRows)},
		func(ctx context.Context, in *importInput) (*bodyOut[crm.ImportResult], error) {
			pr := principal(ctx)
			var rows []crm.ImportRow
			var err error
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(in.ContentType)), "application/json") {
				rows, err = jsonRows(in.RawBody)
			} else {
				rows, err = csvRows(in.RawBody)
			}
			if err != nil {
				return nil, err
			}
			res, err := svc.ImportCustomers(ctx, crm.Actor(pr.Actor()), pr.OrgID, rows, in.OnConflict, in.DryRun)
			var ie *crm.ImportError
			if errors.As(err, &ie) {
				p := problem(http.StatusUnprocessableEntity, ProbValidation, "%d problem(s) in the import; nothing was imported", len(ie.Rows))
				for _, r := range ie.Rows {
					loc := fmt.Sprintf("rows[%d]", r.Row)
					if r.Field != "" {
						loc += "." + r.Field
					}
					p.Errors = append(p.Errors, &huma.ErrorDetail{Location: loc, Message: r.Message})
				}
				return nil, p
			}
			if err != nil {
				return nil, storeErr(err, "import")
			}
			return &bodyOut[crm.ImportResult]{*res}, nil
		})
}

func importProblem(format string, args ...any) error {
	return problem(http.StatusUnprocessableEntity, ProbValidation, format, args...)
}

// csvRows reads a customer CSV: a header row, then one customer a line.
func csvRows(body []byte) ([]crm.ImportRow, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff")) // a BOM from spreadsheets
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, importProblem("the CSV has no header row: %v", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		canonical := ""
		for _, c := range csvColumns {
			if strings.EqualFold(h, c) {
				canonical = c
			}
		}
		if key, ok := strings.CutPrefix(h, "custom."); ok && key != "" {
			canonical = "custom." + key
		}
		if canonical == "" {
			return nil, importProblem("unknown column %q; columns are %s, and custom.<field>", h, strings.Join(csvColumns, ", "))
		}
		cols[i] = canonical
	}
	var rows []crm.ImportRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, importProblem("line %d: %v", line, err)
		}
		if len(rows) == MaxImportRows {
			return nil, importProblem("more than %d rows: import them in several requests", MaxImportRows)
		}
		if len(rec) != len(cols) {
			return nil, importProblem("line %d has %d fields; the header has %d", line, len(rec), len(cols))
		}
		row := crm.ImportRow{Row: line, Customer: &domain.Customer{}}
		custom := map[string]any{}
		var bad error
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if err := setCSVField(row.Customer, custom, cols[i], v); err != nil && bad == nil {
				bad = importProblem("line %d, column %s: %v", line, cols[i], err)
			}
			row.Set = append(row.Set, cols[i])
		}
		if bad != nil {
			return nil, bad
		}
		if len(custom) > 0 {
			row.Customer.Custom = mustJSON(custom)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, importProblem("the CSV has no rows")
	}
	return rows, nil
}

func setCSVField(c *domain.Customer, custom map[string]any, col, v string) error {
	addr := func() *domain.Address {
		if c.Address == nil {
			c.Address = &domain.Address{}
		}
		return c.Address
	}
	money := func() *domain.Money {
		if c.LifetimeValue == nil {
			c.LifetimeValue = &domain.Money{}
		}
		return c.LifetimeValue
	}
	switch col {
	case "name":
		c.Name = v
	case "email":
		c.Email = v
	case "phone":
		c.Phone = v
	case "company":
		c.Company = v
	case "title":
		c.Title = v
	case "status":
		c.Status = v
	case "type":
		c.Type = v
	case "source":
		c.Source = v
	case "ownerId":
		c.OwnerID = v
	case "tags":
		for _, t := range strings.Split(v, ";") {
			if t = strings.TrimSpace(t); t != "" {
				c.Tags = append(c.Tags, t)
			}
		}
	case "lifetimeValue.amount":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number of minor units (cents): money is never a decimal here", v)
		}
		money().Amount = n
	case "lifetimeValue.currency":
		money().Currency = v
	case "address.line1":
		addr().Line1 = v
	case "address.line2":
		addr().Line2 = v
	case "address.city":
		addr().City = v
	case "address.region":
		addr().Region = v
	case "address.postalCode":
		addr().PostalCode = v
	case "address.country":
		addr().Country = v
	case "health.score":
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		c.Health = &domain.Health{Score: n}
	default:
		custom[strings.TrimPrefix(col, "custom.")] = v
	}
	return nil
}

// jsonRows reads a JSON array of customers (their writable fields).
func jsonRows(body []byte) ([]crm.ImportRow, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, importProblem("the body is not a JSON array of customers: %v", err)
	}
	if len(items) == 0 {
		return nil, importProblem("the array is empty")
	}
	if len(items) > MaxImportRows {
		return nil, importProblem("more than %d rows: import them in several requests", MaxImportRows)
	}
	rows := make([]crm.ImportRow, len(items))
	for i, item := range items {
		var set []string
		for k := range item {
			if readOnlyField(k) {
				return nil, importProblem("item %d: %s is set by the server", i, k)
			}
			set = append(set, k)
		}
		b, _ := json.Marshal(item)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		c := &domain.Customer{}
		if err := dec.Decode(c); err != nil {
			return nil, importProblem("item %d: %v", i, err)
		}
		rows[i] = crm.ImportRow{Row: i, Customer: c, Set: set}
	}
	return rows, nil
}

func readOnlyField(k string) bool {
	return k == "id" || k == "version" || k == "createdAt" || k == "updatedAt"
}
