package rootfs

// Decodes returns how many chunks the image's cache has decoded.
func (im *Image) Decodes() uint64 {
	im.cache.mu.Lock()
	defer im.cache.mu.Unlock()
	return im.cache.decodes
}
