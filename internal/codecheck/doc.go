// Package codecheck holds tests that keep the source tree in shape; it has
// no code of its own. funclen_test.go keeps hand-written functions under
// 80 lines (the rule is written there, and in docs/architecture.md).
package codecheck
