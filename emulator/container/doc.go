// Package container owns a converted module's run configuration: the image
// config blob that c2w embeds next to the rootfs image (entrypoint, cmd,
// env, working directory, user, exposed ports, labels, stop signal), and the
// rules that combine it with run-time options into the process to start,
// the way `docker run` does.
//
// The converter (cmd/c2w) encodes a Config with Marshal; the module
// (cmd/c2w-emulator) decodes it with Parse and builds the process with
// Config.Process. Keeping both directions in one package, compiled into
// both programs, means they agree by construction. The blob is JSON with a
// format version; Parse treats it as hostile input (size limit, strict
// field set, no NUL bytes, absolute working directory).
//
// The package uses only the standard library: it is compiled to wasip1.
package container
