// Package stripe implements the stripe.* actions — createCustomer,
// createPaymentLink (a Checkout Session), createInvoice and getPayment —
// with stripe-go against Stripe, or, when the organisation has no Stripe
// key, against the platform's sandbox checkout page. Every request that
// creates something carries an Idempotency-Key derived from the run and
// step, so a retried activity never creates (or charges) twice.
package stripe
