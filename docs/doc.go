// Package docs holds the user documentation. Its test compiles every
// workflow example in dsl.md and runs the ones that state their result.
package docs
