package image

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Info is what `c2w inspect` shows; its JSON form is stable for scripts.
type Info struct {
	Reference    string            `json:"reference"`
	Digest       string            `json:"digest"`
	IndexDigest  string            `json:"indexDigest,omitempty"`
	MediaType    string            `json:"mediaType"`
	Platform     string            `json:"platform"`
	Entrypoint   []string          `json:"entrypoint"`
	Cmd          []string          `json:"cmd"`
	Env          []string          `json:"env"`
	WorkingDir   string            `json:"workingDir"`
	User         string            `json:"user"`
	ExposedPorts []string          `json:"exposedPorts"`
	Labels       map[string]string `json:"labels,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
	Layers       []LayerInfo       `json:"layers"`
}

// LayerInfo describes one layer in Info.
type LayerInfo struct {
	Digest    string `json:"digest,omitempty"`
	DiffID    string `json:"diffID"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

// Info summarizes the image.
func (im *Image) Info() Info {
	c := im.Config.Config
	info := Info{
		Reference:    im.Ref,
		Digest:       im.Digest.String(),
		MediaType:    string(im.MediaType),
		Platform:     FormatPlatform(im.Platform),
		Entrypoint:   nonNil(c.Entrypoint),
		Cmd:          nonNil(c.Cmd),
		Env:          nonNil(c.Env),
		WorkingDir:   c.WorkingDir,
		User:         c.User,
		Labels:       c.Labels,
		StopSignal:   c.StopSignal,
		ExposedPorts: []string{},
		Layers:       []LayerInfo{},
	}
	if im.IndexDigest.Hex != "" {
		info.IndexDigest = im.IndexDigest.String()
	}
	for p := range c.ExposedPorts {
		info.ExposedPorts = append(info.ExposedPorts, p)
	}
	sort.Strings(info.ExposedPorts)
	for _, l := range im.Layers {
		li := LayerInfo{DiffID: l.DiffID.String(), MediaType: string(l.MediaType), Size: l.Size}
		if l.Digest.Hex != "" {
			li.Digest = l.Digest.String()
		}
		info.Layers = append(info.Layers, li)
	}
	return info
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes the info as indented JSON.
func (info Info) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(info)
}

// WriteText writes the info for people.
func (info Info) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Reference", info.Reference)
	row("Digest", info.Digest)
	if info.IndexDigest != "" {
		row("Index", info.IndexDigest)
	}
	row("Media type", info.MediaType)
	row("Platform", info.Platform)
	row("Entrypoint", quoteList(info.Entrypoint))
	row("Cmd", quoteList(info.Cmd))
	row("Working dir", orNone(info.WorkingDir))
	row("User", orNone(info.User))
	row("Exposed ports", orNone(strings.Join(info.ExposedPorts, ", ")))
	if info.StopSignal != "" {
		row("Stop signal", info.StopSignal)
	}
	row("Env", orNone(strings.Join(info.Env, "\n\t")))
	if len(info.Labels) > 0 {
		keys := make([]string, 0, len(info.Labels))
		for k := range info.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + info.Labels[k]
		}
		row("Labels", strings.Join(keys, "\n\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Layers (%d):\n", len(info.Layers))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tDIGEST\tSIZE\tMEDIA TYPE")
	for i, l := range info.Layers {
		d := l.Digest
		if d == "" {
			d = l.DiffID + " (diffID)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i, d, HumanSize(l.Size), l.MediaType)
	}
	return tw.Flush()
}

func quoteList(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// HumanSize formats a byte count as docker does (decimal units).
func HumanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			return fmt.Sprintf("%.3g%s", f, u)
		}
	}
	return fmt.Sprintf("%.3gPB", f/unit)
}
