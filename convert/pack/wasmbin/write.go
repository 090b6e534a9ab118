package wasmbin

import (
	"fmt"
	"math"
)

func appendUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func ulebLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func encodeLimits(b []byte, l Limits) []byte {
	var flags byte
	if l.HasMax {
		flags |= 1
	}
	if l.Shared {
		flags |= 2
	}
	if l.Is64 {
		flags |= 4
	}
	b = appendUleb(append(b, flags), l.Min)
	if l.HasMax {
		b = appendUleb(b, l.Max)
	}
	return b
}

func (m *Module) memoryPayload() ([]byte, error) {
	b := appendUleb(nil, uint64(len(m.Memories)))
	for i, l := range m.Memories {
		limit := uint64(math.MaxUint32)
		if l.Is64 {
			limit = math.MaxUint64
		}
		if l.Min > limit || (l.HasMax && (l.Max > limit || l.Max < l.Min)) {
			return nil, fmt.Errorf("wasmbin: memory %d: limits min %d max %d (has max %v) cannot be encoded", i, l.Min, l.Max, l.HasMax)
		}
		b = encodeLimits(b, l)
	}
	return b, nil
}

func (d *DataSegment) headerLen() int {
	switch {
	case d.Passive:
		return 1
	case d.Memory == 0:
		return 1 + len(d.OffsetExpr)
	default:
		return 1 + ulebLen(uint64(d.Memory)) + len(d.OffsetExpr)
	}
}

func (m *Module) dataPayloadLen() uint64 {
	n := uint64(ulebLen(uint64(len(m.Data))))
	for _, d := range m.Data {
		n += uint64(d.headerLen()) + uint64(ulebLen(uint64(len(d.Init)))) + uint64(len(d.Init))
	}
	return n
}

func (m *Module) appendDataPayload(b []byte) []byte {
	b = appendUleb(b, uint64(len(m.Data)))
	for _, d := range m.Data {
		switch {
		case d.Passive:
			b = append(b, 1)
		case d.Memory == 0:
			b = append(append(b, 0), d.OffsetExpr...)
		default:
			b = append(appendUleb(append(b, 2), uint64(d.Memory)), d.OffsetExpr...)
		}
		b = append(appendUleb(b, uint64(len(d.Init))), d.Init...)
	}
	return b
}

func (m *Module) typePayload() []byte {
	b := appendUleb(nil, uint64(len(m.Types)))
	for _, t := range m.Types {
		b = append(appendUleb(append(b, 0x60), uint64(len(t.Params))), valTypeBytes(t.Params)...)
		b = append(appendUleb(b, uint64(len(t.Results))), valTypeBytes(t.Results)...)
	}
	return b
}

func valTypeBytes(ts []ValType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

func (m *Module) functionPayload() []byte {
	b := appendUleb(nil, uint64(len(m.Functions)))
	for _, t := range m.Functions {
		b = appendUleb(b, uint64(t))
	}
	return b
}

func (m *Module) codePayload() []byte {
	n := 0
	for _, c := range m.Code {
		n += 5 + len(c.Body)
	}
	b := appendUleb(make([]byte, 0, n+5), uint64(len(m.Code)))
	for _, c := range m.Code {
		b = append(appendUleb(b, uint64(len(c.Body))), c.Body...)
	}
	return b
}

// hasPassiveData reports whether a data segment is passive, which needs the
// data count section (memory.init and data.drop refer to segments by index
// before the data section is read).
func (m *Module) hasPassiveData() bool {
	for _, d := range m.Data {
		if d.Passive {
			return true
		}
	}
	return false
}

// Encode writes the module. Sections other than memory, data and data
// count (and type, function and code, once changed) are copied unchanged;
// a data section is added after the code section when segments were
// appended to a module that had none, and a data count section when
// passive segments need one.
func (m *Module) Encode() ([]byte, error) {
	type part struct {
		id      SectionID
		payload []byte
		data    bool // the data section, streamed from m.Data
	}
	var parts []part
	hasData, hasDataCount := false, false
	for _, s := range m.Sections {
		switch s.ID {
		case SectionType:
			if m.typesChanged {
				parts = append(parts, part{id: s.ID, payload: m.typePayload()})
				continue
			}
		case SectionFunction:
			if m.codeChanged {
				parts = append(parts, part{id: s.ID, payload: m.functionPayload()})
				continue
			}
		case SectionCode:
			if !hasDataCount && m.hasPassiveData() {
				parts = append(parts, part{id: SectionDataCount, payload: appendUleb(nil, uint64(len(m.Data)))})
				hasDataCount = true
			}
			if m.codeChanged {
				parts = append(parts, part{id: s.ID, payload: m.codePayload()})
				continue
			}
		case SectionMemory:
			p, err := m.memoryPayload()
			if err != nil {
				return nil, err
			}
			parts = append(parts, part{id: s.ID, payload: p})
			continue
		case SectionDataCount:
			parts = append(parts, part{id: s.ID, payload: appendUleb(nil, uint64(len(m.Data)))})
			hasDataCount = true
			continue
		case SectionData:
			hasData = true
			parts = append(parts, part{id: s.ID, data: true})
			continue
		}
		parts = append(parts, part{id: s.ID, payload: s.Payload})
	}
	// insert adds a section the module lacks where the section order puts
	// it: after the last known section that must precede it.
	insert := func(p part) {
		at := 0
		for i, q := range parts {
			if o, known := sectionOrder[q.id]; known && o < sectionOrder[p.id] {
				at = i + 1
			}
		}
		parts = append(parts[:at], append([]part{p}, parts[at:]...)...)
	}
	present := map[SectionID]bool{}
	for _, p := range parts {
		present[p.id] = true
	}
	if m.typesChanged && !present[SectionType] {
		insert(part{id: SectionType, payload: m.typePayload()})
	}
	if m.codeChanged && !present[SectionFunction] {
		insert(part{id: SectionFunction, payload: m.functionPayload()})
	}
	if m.codeChanged && !present[SectionCode] {
		insert(part{id: SectionCode, payload: m.codePayload()})
	}
	if !hasDataCount && m.hasPassiveData() {
		insert(part{id: SectionDataCount, payload: appendUleb(nil, uint64(len(m.Data)))})
	}
	if !hasData && len(m.Data) > 0 {
		insert(part{id: SectionData, data: true})
	}
	dataLen := m.dataPayloadLen()
	if dataLen > math.MaxUint32 {
		return nil, fmt.Errorf("wasmbin: data section of %d bytes exceeds the format's 4 GiB section limit", dataLen)
	}
	total := uint64(len(magic))
	for _, p := range parts {
		n := uint64(len(p.payload))
		if p.data {
			n = dataLen
		}
		total += 1 + uint64(ulebLen(n)) + n
	}
	out := make([]byte, 0, total)
	out = append(out, magic...)
	for _, p := range parts {
		out = append(out, byte(p.id))
		if p.data {
			out = m.appendDataPayload(appendUleb(out, dataLen))
			continue
		}
		out = append(appendUleb(out, uint64(len(p.payload))), p.payload...)
	}
	if uint64(len(out)) != total {
		return nil, fmt.Errorf("wasmbin: internal error: wrote %d bytes, computed %d", len(out), total)
	}
	return out, nil
}

// AppendCustomSection appends a custom section to an encoded module.
// Custom sections may follow any section, so the bytes before it are kept
// as they are: a module of hundreds of MiB is not re-encoded for a marker.
func AppendCustomSection(module []byte, name string, payload []byte) []byte {
	size := uint64(ulebLen(uint64(len(name))) + len(name) + len(payload))
	b := appendUleb(append(module, byte(SectionCustom)), size)
	b = appendUleb(b, uint64(len(name)))
	return append(append(b, name...), payload...)
}
