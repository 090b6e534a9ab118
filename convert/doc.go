// Package convert is the converter's pipeline: it takes an image resolved by
// convert/image, decodes and verifies each layer (convert/layer), flattens
// them into a tree (convert/rootfs) and writes outputs atomically. The
// command-line tool c2w is a thin shell over it.
package convert
