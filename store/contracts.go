package store

import (
	"context"
	"strings"
	"time"

	"switchboard/domain"
)

// Contracts, signatures and contract templates (domain.ContractRepo).

const contractCols = `org_id, id, quote_id, opportunity_id, customer_id, title, template, document, document_hash, status,
	signer_name, signer_email, run_id, sent_at, signed_at, voided_at, void_reason, paid_at, version, created_at, updated_at`

func scanContract(s scanner) (c domain.Contract, err error) {
	return c, s.Scan(&c.OrgID, &c.ID, &c.QuoteID, &c.OpportunityID, &c.CustomerID, &c.Title, &c.Template, &c.Document,
		&c.DocumentHash, &c.Status, &c.SignerName, &c.SignerEmail, &c.RunID, scanNullTime(&c.SentAt), scanNullTime(&c.SignedAt),
		scanNullTime(&c.VoidedAt), &c.VoidReason, scanNullTime(&c.PaidAt), &c.Version, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
}

func checkContract(c *domain.Contract) error {
	if err := need("contract", "orgId", c.OrgID); err != nil {
		return err
	}
	c.Normalize()
	return c.Validate()
}

// CreateContract inserts c with the opportunity and customer of its quote.
func (r *repo) CreateContract(ctx context.Context, c *domain.Contract) error {
	if err := checkContract(c); err != nil {
		return err
	}
	return r.atomic(ctx, func(r *repo) error {
		if err := r.queryRow(ctx, `SELECT opportunity_id, customer_id FROM quotes WHERE org_id = ? AND id = ?`, c.OrgID, c.QuoteID).
			Scan(&c.OpportunityID, &c.CustomerID); err != nil {
			return wrap("create contract: quote "+c.QuoteID, translate(err))
		}
		c.ID, c.Version = newID(c.ID), 1
		c.CreatedAt = stamp(c.CreatedAt)
		c.UpdatedAt = c.CreatedAt
		_, err := r.exec(ctx, `INSERT INTO contracts (`+contractCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.OrgID, c.ID, c.QuoteID, c.OpportunityID, c.CustomerID, c.Title, c.Template, c.Document, c.DocumentHash, c.Status,
			c.SignerName, c.SignerEmail, c.RunID, r.tsp(c.SentAt), r.tsp(c.SignedAt), r.tsp(c.VoidedAt), c.VoidReason, r.tsp(c.PaidAt),
			c.Version, r.ts(c.CreatedAt), r.ts(c.UpdatedAt))
		return wrap("create contract", err)
	})
}

func (r *repo) GetContract(ctx context.Context, orgID, id string) (*domain.Contract, error) {
	c, err := get(ctx, r, "contract "+id, scanContract, `SELECT `+contractCols+` FROM contracts WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
	if err != nil {
		return nil, err
	}
	c.Signatures, err = list(ctx, r, "contract signatures", func(s scanner) (g domain.Signature, err error) {
		return g, s.Scan(&g.ID, &g.ContractID, &g.Name, &g.Email, &g.Typed, &g.DocumentHash, &g.IP, &g.UserAgent, &g.Via, scanTime(&g.SignedAt))
	}, `SELECT id, contract_id, name, email, typed, document_hash, ip, user_agent, via, signed_at FROM contract_signatures
		WHERE org_id = ? AND contract_id = ? ORDER BY signed_at, id`, orgID, id)
	return c, err
}

// UpdateContract saves the status, signer and time fields; the document,
// its hash and the quote stay as created.
func (r *repo) UpdateContract(ctx context.Context, c *domain.Contract) error {
	if err := checkContract(c); err != nil {
		return err
	}
	what := "update contract " + c.ID
	c.UpdatedAt = stamp(time.Time{})
	n, err := r.exec(ctx, `UPDATE contracts SET title = ?, status = ?, signer_name = ?, signer_email = ?, sent_at = ?, signed_at = ?,
		voided_at = ?, void_reason = ?, paid_at = ?, updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ? AND version = ?`,
		c.Title, c.Status, c.SignerName, c.SignerEmail, r.tsp(c.SentAt), r.tsp(c.SignedAt), r.tsp(c.VoidedAt), c.VoidReason, r.tsp(c.PaidAt),
		r.ts(c.UpdatedAt), c.OrgID, c.ID, c.Version)
	switch {
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "contracts", c.OrgID, c.ID, c.Version)
	}
	c.Version++
	return nil
}

var contractPages = &keyset[domain.Contract]{
	record: "contract query",
	order:  []string{"created"},
	// lists leave the document out
	from:  `SELECT ` + strings.Replace(contractCols, " document,", " '' AS document,", 1) + ` FROM contracts`,
	scan:  scanContract,
	sorts: map[string]sortKey[domain.Contract]{"created": {}},
}

// ListContracts lists contracts newest first, without documents.
func (r *repo) ListContracts(ctx context.Context, orgID string, q domain.ContractQuery) ([]domain.Contract, string, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, f := range []struct{ col, v string }{{"quote_id", q.QuoteID}, {"customer_id", q.CustomerID}, {"status", q.Status}} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
	}
	return contractPages.page(ctx, r, where, args, "created", true, q.After, q.Limit, func(c *domain.Contract) string { return c.ID })
}

func (r *repo) AddSignature(ctx context.Context, orgID string, s *domain.Signature) error {
	if err := need("signature", "orgId", orgID, "contractId", s.ContractID); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	s.ID = newID(s.ID)
	s.SignedAt = stamp(s.SignedAt)
	_, err := r.exec(ctx, `INSERT INTO contract_signatures (org_id, id, contract_id, name, email, typed, document_hash, ip, user_agent, via, signed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, orgID, s.ID, s.ContractID, s.Name, s.Email, s.Typed, s.DocumentHash, s.IP, s.UserAgent, s.Via, r.ts(s.SignedAt))
	return wrap("add signature", err)
}

func (r *repo) PutContractTemplate(ctx context.Context, t *domain.ContractTemplate) error {
	if err := need("contract template", "orgId", t.OrgID); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t.UpdatedAt = stamp(time.Time{})
	_, err := r.exec(ctx, `INSERT INTO contract_templates (org_id, name, body, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
		t.OrgID, t.Name, t.Body, r.ts(t.UpdatedAt))
	return wrap("put contract template "+t.Name, err)
}

func scanContractTemplate(s scanner) (t domain.ContractTemplate, err error) {
	return t, s.Scan(&t.OrgID, &t.Name, &t.Body, scanTime(&t.UpdatedAt))
}

func (r *repo) GetContractTemplate(ctx context.Context, orgID, name string) (*domain.ContractTemplate, error) {
	return get(ctx, r, "contract template "+name, scanContractTemplate,
		`SELECT org_id, name, body, updated_at FROM contract_templates WHERE org_id = ? AND name = ?`, orgID, name)
}

func (r *repo) ListContractTemplates(ctx context.Context, orgID string) ([]domain.ContractTemplate, error) {
	return list(ctx, r, "list contract templates", scanContractTemplate,
		`SELECT org_id, name, body, updated_at FROM contract_templates WHERE org_id = ? ORDER BY name`, orgID)
}

func (r *repo) DeleteContractTemplate(ctx context.Context, orgID, name string) error {
	return r.execOne(ctx, "delete contract template "+name, `DELETE FROM contract_templates WHERE org_id = ? AND name = ?`, orgID, name)
}
