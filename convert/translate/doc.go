// Package translate chooses the code of a converted image to translate to
// WebAssembly and translates it (docs/translation.md): every executable
// page of the image's riscv64 ELF files (ModeAll), or the pages that
// training runs of the image's own commands executed (ModeTrained, the
// emulator's Linux layer running natively inside the converter). The
// result, units and their index, is linked into the emulator module by
// convert/pack (LinkTranslated, and Embed with the index as a blob).
package translate
