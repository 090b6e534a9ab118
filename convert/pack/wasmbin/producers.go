package wasmbin

// ProducerField is one field of the "producers" custom section (the
// WebAssembly tool conventions): a field name such as "language" or
// "processed-by" and the tools or languages listed under it.
type ProducerField struct {
	Name   string
	Values []ProducerValue
}

// ProducerValue is a tool or language name with its version.
type ProducerValue struct {
	Name, Version string
}

// Producers decodes the module's "producers" custom section; it returns
// nil when there is none.
func (m *Module) Producers() ([]ProducerField, error) {
	for _, s := range m.Sections {
		if s.ID != SectionCustom || s.Name != "producers" {
			continue
		}
		r := &reader{b: s.Payload, base: s.Offset, section: "producers section"}
		r.name()
		fields := decodeVec(r, "fields", 2, func(r *reader) ProducerField {
			f := ProducerField{Name: r.name()}
			f.Values = decodeVec(r, "values", 2, func(r *reader) ProducerValue {
				return ProducerValue{Name: r.name(), Version: r.name()}
			})
			return f
		})
		if r.err == nil && r.pos != len(r.b) {
			r.fail("%d unexpected bytes after the last field", len(r.b)-r.pos)
		}
		return fields, r.err
	}
	return nil, nil
}
