package catalog

import (
	"maps"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"switchboard/activities"
	aiact "switchboard/activities/ai"
	crmact "switchboard/activities/crm"
	emailact "switchboard/activities/email"
	httpact "switchboard/activities/http"
	kbact "switchboard/activities/kb"
	slackact "switchboard/activities/slack"
	stripeact "switchboard/activities/stripe"
	"switchboard/domain"
	"switchboard/dsl"
)

// Options configure the connectors. The zero value is server mode.
type Options struct {
	HTTP httpact.Options
	// Store holds the business records the crm.* actions use; without it
	// they fail with NoRecords (mock them in `switchboard run`).
	Store domain.Store
	// PublicURL is the base of the public links crm actions return.
	PublicURL string
	// Secrets reads the organisations' provider keys; without it every
	// connector uses its local fallback (the outbox, sandbox payments).
	Secrets activities.Secrets
	// Providers points the connectors at other provider hosts (local test
	// servers, proxies); the zero value is the real providers.
	Providers Providers
	// Dev is development mode (`switchboard dev`, SWITCHBOARD_MODE=dev):
	// payments fall back to the sandbox for every organisation without a
	// Stripe key (otherwise only for those that opt in).
	Dev bool
	// AI is the worker's AI endpoint, used by organisations that set none
	// of their own (ai_api_key / ai_base_url).
	AI aiact.Config
	// Skip lists actions not to register (for example because a test mocks them).
	Skip map[string]bool
}

// Providers are provider API base URLs; empty means the provider's own.
type Providers struct {
	SendGrid string
	// Slack is the Web API base, such as https://slack.com/api/.
	Slack  string
	Stripe string
}

// Registry returns the declarations of all built-in actions.
func Registry() *dsl.Registry {
	reg := &dsl.Registry{}
	reg.MustRegister(httpact.Action())
	reg.MustRegister(emailact.Action())
	reg.MustRegister(kbact.Action())
	for _, a := range slices.Concat(aiact.Actions(), slackact.Actions(), stripeact.Actions()) {
		reg.MustRegister(a)
	}
	for _, a := range crmact.Actions() {
		reg.MustRegister(a)
	}
	return reg
}

// Implementations returns each action's implementation by action name.
func Implementations(opts Options) map[string]activities.Func {
	impls := map[string]activities.Func{
		"http.request": httpact.New(opts.HTTP).Request,
		"email.send":   emailact.New(emailact.Options{Store: opts.Store, Secrets: opts.Secrets, SendGridURL: opts.Providers.SendGrid}),
		"kb.search":    kbact.New(kbact.Options{Store: opts.Store}),
	}
	maps.Copy(impls, aiact.Implementations(aiact.Options{Secrets: opts.Secrets, Store: opts.Store, Defaults: opts.AI,
		OrgHTTPClient: httpact.Client(opts.HTTP)}))
	maps.Copy(impls, slackact.Implementations(slackact.Options{Store: opts.Store, Secrets: opts.Secrets, APIURL: opts.Providers.Slack}))
	maps.Copy(impls, stripeact.Implementations(stripeact.Options{Store: opts.Store, Secrets: opts.Secrets, URL: opts.Providers.Stripe, PublicURL: opts.PublicURL, Dev: opts.Dev}))
	maps.Copy(impls, crmact.Implementations(crmact.Options{Store: opts.Store, PublicURL: opts.PublicURL}))
	return impls
}

// Register registers the implementations of the registry's actions on w,
// each wrapped by activities.Wrap under its activity name.
func Register(w worker.ActivityRegistry, reg *dsl.Registry, opts Options) {
	impls := Implementations(opts)
	for _, a := range reg.Actions() {
		fn, ok := impls[a.Name]
		if !ok || opts.Skip[a.Name] {
			continue
		}
		w.RegisterActivityWithOptions(activities.Wrap(reg, a.Name, fn), activity.RegisterOptions{Name: a.ActivityName()})
	}
}
