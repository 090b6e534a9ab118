package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Blob names under which c2w embeds the container in the module (see
// emulator/embed).
const (
	RootfsBlob = "rootfs"
	ConfigBlob = "config"
)

// FormatVersion is the version of the config blob this package writes and
// reads.
const FormatVersion = 1

// MaxConfigSize bounds the encoded config blob. Image configs are a few
// KiB; the limit keeps a hostile blob from costing memory at start-up.
const MaxConfigSize = 1 << 20

// Config is what a module needs to know about its image to start it.
type Config struct {
	// Version is FormatVersion.
	Version int `json:"version"`
	// Image names the image the module was converted from, for --help and
	// error messages; Digest and Platform identify it exactly.
	Image    string `json:"image,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Platform string `json:"platform,omitempty"`

	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Env          []string          `json:"env,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	User         string            `json:"user,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
}

// Marshal validates c and encodes it as the config blob.
func (c *Config) Marshal() ([]byte, error) {
	v := *c
	v.Version = FormatVersion
	if err := v.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(&v)
	if err != nil {
		return nil, fmt.Errorf("container config: %w", err)
	}
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("container config: %d bytes encoded, more than the %d allowed", len(b), MaxConfigSize)
	}
	return b, nil
}

// Parse decodes and validates a config blob.
func Parse(b []byte) (*Config, error) {
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("container config: %d bytes, more than the %d allowed", len(b), MaxConfigSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("container config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("container config: trailing data after the JSON object")
	}
	if c.Version != FormatVersion {
		return nil, fmt.Errorf("container config: format version %d, this module reads version %d", c.Version, FormatVersion)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) validate() error {
	check := func(field, s string) error {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("container config: %s %q contains a NUL byte", field, s)
		}
		return nil
	}
	for _, list := range []struct {
		field string
		items []string
	}{{"entrypoint", c.Entrypoint}, {"cmd", c.Cmd}, {"env", c.Env}, {"exposed port", c.ExposedPorts}} {
		for _, s := range list.items {
			if err := check(list.field, s); err != nil {
				return err
			}
		}
	}
	for _, e := range c.Env {
		if k, _, _ := strings.Cut(e, "="); k == "" {
			return fmt.Errorf("container config: env entry %q has no name", e)
		}
	}
	for k, v := range c.Labels {
		if err := check("label", k+v); err != nil {
			return err
		}
	}
	for field, s := range map[string]string{"image": c.Image, "digest": c.Digest, "platform": c.Platform,
		"user": c.User, "stop signal": c.StopSignal, "working directory": c.WorkingDir} {
		if err := check(field, s); err != nil {
			return err
		}
	}
	if c.WorkingDir != "" && !path.IsAbs(c.WorkingDir) {
		return fmt.Errorf("container config: working directory %q is not absolute", c.WorkingDir)
	}
	return nil
}
