// Package hooks runs OCI lifecycle hooks: the hook's executable with its
// args and env, the container state as JSON on stdin, and the hook's
// timeout enforced by killing it.
package hooks
