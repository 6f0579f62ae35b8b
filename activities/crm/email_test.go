package crm_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
	"switchboard/domain/crm"
)

func TestQueueEmail(t *testing.T) {
	st, org := memStore(t)
	svc := &crm.Service{Store: st}
	ctx := crm.WithIdempotencyKey(t.Context(), "run:acme/flow:1/r1/7")
	mail := func() *crm.OutgoingEmail {
		return &crm.OutgoingEmail{To: " Ada@Example.com ", Subject: "Hello\r\nBcc: x@example.com", HTML: `<p onclick="x()">Hi</p><script>1</script>`}
	}

	// once per key: a retried activity queues nothing more
	first, err := svc.QueueEmail(ctx, "run:flow:1", org, "7", mail())
	require.NoError(t, err)
	again, err := svc.QueueEmail(ctx, "run:flow:1", org, "7", mail())
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)
	out, err := st.ListOutbox(t.Context(), org, domain.Page{})
	require.NoError(t, err)
	require.Len(t, out, 1)
	m := out[0]
	require.Equal(t, "ada@example.com", m.To)
	require.Equal(t, "Hello  Bcc: x@example.com", m.Subject, "one header line")
	require.Equal(t, "flow:1", m.RunID)
	require.Equal(t, "7", m.StepID)
	require.JSONEq(t, `{"from": "", "text": "", "html": "<p>Hi</p>", "customerId": "", "campaignId": ""}`, string(m.Body), "sanitised")
	require.Equal(t, 1, count(t, st, org, "email.queued"))

	// a suppressed address gets nothing
	require.NoError(t, st.Suppress(t.Context(), org, &domain.Suppression{Email: "gone@example.com", Reason: "bounced"}))
	_, err = svc.QueueEmail(crm.WithIdempotencyKey(t.Context(), "k2"), "run:flow:1", org, "8", &crm.OutgoingEmail{To: "GONE@example.com", Subject: "x", Text: "y"})
	require.True(t, errors.Is(err, crm.ErrSuppressed), "%v", err)
	out, err = st.ListOutbox(t.Context(), org, domain.Page{})
	require.NoError(t, err)
	require.Len(t, out, 1)

	// bad input names its fields
	_, err = svc.QueueEmail(t.Context(), "run:flow:1", org, "9", &crm.OutgoingEmail{To: "not an address", From: "me"})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Fields, 4, "%v", ve) // to, from, subject, text
}

// TestProviderEventBeforeTheAnswer: SendGrid's event webhook reports the
// message delivered before the sending attempt recorded SendGrid's answer;
// the answer then keeps the further status instead of failing the step.
func TestProviderEventBeforeTheAnswer(t *testing.T) {
	st, org := memStore(t)
	svc := &crm.Service{Store: st}
	m := (&crm.OutgoingEmail{To: "ada@example.com", Subject: "Hi", Text: "x"}).Message()
	m.Provider = "sendgrid"
	send, err := svc.BeginSend(t.Context(), "run:flow:1", org, "run:acme/flow:1/r1/4", m)
	require.NoError(t, err)
	require.True(t, send.Now)
	moved, err := svc.RecordDelivery(t.Context(), "provider:sendgrid", org, send.Message.ID, "delivered")
	require.NoError(t, err)
	require.True(t, moved)
	got, err := svc.SendDone(t.Context(), "run:flow:1", org, send.Message.ID, "sent", "sg-1", "")
	require.NoError(t, err)
	require.Equal(t, "delivered", got.Status)
	require.Equal(t, "sg-1", got.ProviderID, "the provider's id is kept")
	stored, err := st.GetOutbox(t.Context(), org, send.Message.ID)
	require.NoError(t, err)
	require.Equal(t, "sg-1", stored.ProviderID)
	// a refusal recorded after the provider reported it is still an error
	_, err = svc.SendDone(t.Context(), "run:flow:1", org, send.Message.ID, "failed", "", "ProviderRejected: x")
	require.ErrorIs(t, err, domain.ErrConflict)
}
