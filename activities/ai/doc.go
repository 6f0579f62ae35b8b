// Package ai is the AI connector: ai.generate (text), ai.extract (JSON
// valid against a schema), ai.classify (one of given labels) and ai.score
// (0–100 against criteria), through github.com/sashabaranov/go-openai
// against any OpenAI-compatible chat-completions endpoint (OpenAI, Azure
// OpenAI's v1 API, Ollama, vLLM, ...).
//
// Configuration is read on every call: from the organisation's secrets
// (ai_api_key, ai_base_url, ai_model, ai_token_budget) over the worker's
// defaults (Options.Defaults). The key and the base URL go together: an
// organisation that sets either uses its own pair, never the worker's key
// with its own URL, so a default key is only ever sent to the default
// endpoint.
//
// Where the call runs decides what else happens (activities.CallOf):
//
//   - In an organisation's run on the platform (workflow id <org>/<run>,
//     Options.Store set), the organisation's monthly token budget is
//     checked before the model is called, the tokens the answers cost are
//     added to the organisation's usage of the month, and the output is
//     recorded under the activity's idempotency key in the same
//     transaction: a retried activity whose first attempt finished returns
//     that output without calling the model again (nor paying or counting
//     twice).
//   - Anywhere else (`switchboard run`, a run started outside the
//     platform, a plain function call in a test) only Options.Defaults are
//     read and nothing is recorded or limited.
//
// Structured answers (extract, classify, score) are asked for in JSON mode
// and checked; an answer that is not valid gets one repair request (the
// reasons sent back to the model), then the action fails with the
// non-retryable AIInvalidOutput naming the violations, never echoing the
// whole answer. Secrets never reach a prompt, an output or an error: the
// prompts hold only what the step's `with:` gives, and provider messages
// are cleaned of the key and of the base URL's credentials. See
// docs/connectors.md.
package ai
