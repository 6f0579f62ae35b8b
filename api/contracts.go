package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// SentContractView is a sent contract with its signing link (shown once).
type SentContractView struct {
	Contract *domain.Contract `json:"contract"`
	URL      string           `json:"url" doc:"The public page where the signer reads and signs the contract. Only its hash is kept: it is shown once"`
}

func (s *Server) contractRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"contracts"}

	type createContractInput struct {
		Body struct {
			QuoteID     string `json:"quoteId" minLength:"1" maxLength:"64" doc:"An accepted quote"`
			Title       string `json:"title,omitempty" maxLength:"200" doc:"Default: Agreement: <deal name>"`
			Template    string `json:"template,omitempty" maxLength:"64" doc:"A contract template's name; default \"default\""`
			SignerName  string `json:"signerName,omitempty" maxLength:"200" doc:"Default: the customer"`
			SignerEmail string `json:"signerEmail,omitempty" maxLength:"254" doc:"When set, the signature must give this address"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-contract", Method: http.MethodPost, Path: "/v1/contracts",
		DefaultStatus: http.StatusCreated, Summary: "Make a draft contract from an accepted quote", Tags: tags,
		Description: "Renders the document from the template and stores it with its SHA-256. A quote has at most one contract " +
			"that is not void (409 `conflict`); a quote that is not accepted answers 409 `invalid-transition`. Emits `contract.created`."},
		func(ctx context.Context, in *createContractInput) (*recordOut[domain.Contract], error) {
			pr := principal(ctx)
			b := in.Body
			c := &domain.Contract{OrgID: pr.OrgID, QuoteID: b.QuoteID, Title: b.Title, Template: b.Template, SignerName: b.SignerName, SignerEmail: b.SignerEmail}
			if _, err := svc.CreateContract(ctx, crm.Actor(pr.Actor()), c); err != nil {
				return nil, storeErr(err, "contract")
			}
			return out(c, c.Version), nil
		})

	type listContractsInput struct {
		Quote    string `query:"quote" maxLength:"64"`
		Customer string `query:"customer" maxLength:"64"`
		Status   string `query:"status" enum:"draft,sent,signed,void"`
		Limit    int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor   string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-contracts", Method: http.MethodGet, Path: "/v1/contracts",
		Summary: "List contracts, newest first (without their documents)", Tags: tags},
		func(ctx context.Context, in *listContractsInput) (*bodyOut[Page[domain.Contract]], error) {
			cs, next, err := s.store.ListContracts(ctx, principal(ctx).OrgID, domain.ContractQuery{QuoteID: in.Quote, CustomerID: in.Customer,
				Status: in.Status, Limit: in.Limit, After: in.Cursor})
			if err != nil {
				return nil, storeErr(err, "contracts")
			}
			return &bodyOut[Page[domain.Contract]]{Page[domain.Contract]{Items: cs, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-contract", Method: http.MethodGet, Path: "/v1/contracts/{id}",
		Summary: "Get a contract with its document and signatures", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Contract], error) {
			c, err := s.store.GetContract(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "contract "+in.ID)
			}
			return out(c, c.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "send-contract", Method: http.MethodPost, Path: "/v1/contracts/{id}/send",
		Summary: "Send a contract: its signing link", Tags: tags,
		Description: "Marks a draft sent (a sent contract gets a new link; the old one stops working) and returns the public signing link, " +
			"valid for 30 days. Emits `contract.sent`."},
		func(ctx context.Context, in *idInput) (*bodyOut[SentContractView], error) {
			pr := principal(ctx)
			sent, err := svc.SendContract(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "contract "+in.ID)
			}
			return &bodyOut[SentContractView]{SentContractView{Contract: sent.Contract, URL: s.publicBase(ctx) + "/p/contracts/" + sent.Token}}, nil
		})

	type voidContractInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Reason string `json:"reason" minLength:"1" maxLength:"2000"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "void-contract", Method: http.MethodPost, Path: "/v1/contracts/{id}/void",
		Summary: "Void a draft or sent contract", Tags: tags,
		Description: "Its signing link stops working and its quote may get a new contract. A signed or void contract answers 409 " +
			"`invalid-transition`. Emits `contract.voided`."},
		func(ctx context.Context, in *voidContractInput) (*recordOut[domain.Contract], error) {
			pr := principal(ctx)
			c, err := svc.VoidContract(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Body.Reason)
			if err != nil {
				return nil, storeErr(err, "contract "+in.ID)
			}
			return out(c, c.Version), nil
		})

	ttags := []string{"contract templates"}
	type templateNameInput struct {
		Name string `path:"name" maxLength:"64"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-contract-templates", Method: http.MethodGet, Path: "/v1/contract-templates",
		Summary: "The organisation's contract templates (default always among them)", Tags: ttags},
		func(ctx context.Context, _ *struct{}) (*bodyOut[Page[domain.ContractTemplate]], error) {
			ts, err := svc.ContractTemplates(ctx, principal(ctx).OrgID)
			if err != nil {
				return nil, storeErr(err, "contract templates")
			}
			return &bodyOut[Page[domain.ContractTemplate]]{Page[domain.ContractTemplate]{Items: ts}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-contract-template", Method: http.MethodGet, Path: "/v1/contract-templates/{name}",
		Summary: "A contract template", Tags: ttags},
		func(ctx context.Context, in *templateNameInput) (*bodyOut[domain.ContractTemplate], error) {
			t, err := crm.ContractTemplate(ctx, s.store, principal(ctx).OrgID, in.Name)
			if err != nil {
				return nil, storeErr(err, "contract template "+in.Name)
			}
			return &bodyOut[domain.ContractTemplate]{*t}, nil
		})
	type putTemplateInput struct {
		Name string `path:"name" maxLength:"64"`
		Body struct {
			Body string `json:"body" minLength:"1" maxLength:"1048576" doc:"HTML in Go html/template syntax (see docs/records.md): the data is .Seller, .Title, .Number, .Date, .Signer, .Customer, .Opportunity, .Quote"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-contract-template", Method: http.MethodPut, Path: "/v1/contract-templates/{name}",
		Summary: "Create or replace a contract template", Tags: ttags,
		Description: "The template is parsed, checked (no define/template/block; range only over fields) and rendered once with sample data; " +
			"a problem answers 422 naming `body`. Contracts already made keep their documents."},
		func(ctx context.Context, in *putTemplateInput) (*bodyOut[domain.ContractTemplate], error) {
			pr := principal(ctx)
			t := &domain.ContractTemplate{OrgID: pr.OrgID, Name: in.Name, Body: in.Body.Body}
			if _, err := svc.PutContractTemplate(ctx, crm.Actor(pr.Actor()), t); err != nil {
				return nil, storeErr(err, "contract template "+in.Name)
			}
			return &bodyOut[domain.ContractTemplate]{*t}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-contract-template", Method: http.MethodDelete, Path: "/v1/contract-templates/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a contract template (deleting default restores the built-in one)", Tags: ttags},
		func(ctx context.Context, in *templateNameInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteContractTemplate(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Name), "contract template "+in.Name)
		})
}
