// Package crm implements the crm.* actions: workflow steps that read and
// change the platform's business records (customers so far) in the run's
// organisation, through domain/crm, so that every change emits its event and
// audit row exactly as an API change does. Changes are idempotent under
// activity retries: each is keyed by the run and the activity.
package crm
