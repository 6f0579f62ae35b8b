package domain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func TestComputeTotals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []domain.LineItem
		want  domain.Totals
	}{
		{"empty", nil, domain.Totals{}},
		{"plain", []domain.LineItem{{Product: "a", Quantity: 3, UnitPrice: 1999}}, domain.Totals{Subtotal: 5997, Total: 5997}},
		// 3 × 3.33 = 9.99; 10 % off = 0.999 → 1.00; net 8.99; 19 % tax = 1.7081 → 1.71
		{"discount and tax round half up per line", []domain.LineItem{{Product: "a", Quantity: 3, UnitPrice: 333, DiscountBps: 1000, TaxRateBps: 1900}},
			domain.Totals{Subtotal: 999, Discount: 100, Tax: 171, Total: 1070}},
		// exactly half a cent: 0.05 × 10 % = 0.005 → 0.01
		{"a half rounds up", []domain.LineItem{{Product: "a", Quantity: 1, UnitPrice: 5, DiscountBps: 1000}},
			domain.Totals{Subtotal: 5, Discount: 1, Total: 4}},
		// just under half: 0.04 × 10 % = 0.004 → 0.00
		{"under a half rounds down", []domain.LineItem{{Product: "a", Quantity: 1, UnitPrice: 4, DiscountBps: 1000}},
			domain.Totals{Subtotal: 4, Total: 4}},
		// lines round separately, then add up: 2 × round(0.5) = 2, not round(1.0) = 1
		{"lines round separately", []domain.LineItem{{Product: "a", Quantity: 1, UnitPrice: 5, TaxRateBps: 1000}, {Product: "b", Quantity: 1, UnitPrice: 5, TaxRateBps: 1000}},
			domain.Totals{Subtotal: 10, Tax: 2, Total: 12}},
		{"100 % discount", []domain.LineItem{{Product: "a", Quantity: 7, UnitPrice: 1234, DiscountBps: 10000, TaxRateBps: 2000}},
			domain.Totals{Subtotal: 8638, Discount: 8638, Total: 0}},
		{"JPY has no minor unit: the same integers", []domain.LineItem{{Product: "a", Quantity: 2, UnitPrice: 1500, TaxRateBps: 1000}},
			domain.Totals{Subtotal: 3000, Tax: 300, Total: 3300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ComputeTotals(tc.items)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := domain.ComputeTotals([]domain.LineItem{{Product: "a", Quantity: 1_000_000, UnitPrice: 1_000_000_000_000}})
	require.ErrorContains(t, err, "too large")
	_, err = domain.ComputeTotals([]domain.LineItem{{Product: "a", Quantity: 1, UnitPrice: -1}})
	require.Error(t, err)
}

func TestStageMoves(t *testing.T) {
	require.NoError(t, domain.CanMoveStage("lead", "proposal", ""), "open stages move forwards")
	require.NoError(t, domain.CanMoveStage("negotiation", "qualified", ""), "and back")
	require.NoError(t, domain.CanMoveStage("proposal", "closed_lost", ""))
	require.ErrorIs(t, domain.CanMoveStage("closed_won", "negotiation", ""), domain.ErrInvalidTransition)
	require.NoError(t, domain.CanMoveStage("closed_lost", "qualified", "they came back"))
	require.ErrorIs(t, domain.CanMoveStage("lead", "lead", ""), domain.ErrInvalidTransition)
	require.ErrorIs(t, domain.CanMoveStage("lead", "won", ""), domain.ErrInvalid)
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{123456, "EUR", "1,234.56"}, {5, "USD", "0.05"}, {0, "EUR", "0.00"}, {1500, "JPY", "1,500"},
		{1234567, "KWD", "1,234.567"}, {100000000, "GBP", "1,000,000.00"}, {-250, "EUR", "-2.50"},
	} {
		require.Equal(t, tc.want, domain.FormatMinor(tc.amount, tc.currency), "%d %s", tc.amount, tc.currency)
	}
}
