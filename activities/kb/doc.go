// Package kb is the knowledge-base connector: kb.search finds the
// organisation's articles best matching a text (docs/connectors.md).
package kb
