package linux_test

import (
	"bytes"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// TestProfileCountsEveryInstruction: the profile that chooses pages to
// translate credits every retired instruction to a page of an image file
// (busybox is static, so all its code is one file), and a loop's pages
// weigh more than the rest. The subshells fork after the loop: a child
// starts counting from zero, not from its parent's count. Only the signal
// return trampoline (SIGCHLD), which is in no file, goes uncredited.
func TestProfileCountsEveryInstruction(t *testing.T) {
	img := loadImage(t, fixtures.ImageBusybox)
	weights := map[[2]uint64]uint64{}
	var stdout bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: img, Args: []string{"sh", "-c", `i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; (true); (echo $i)`}, Env: testEnv,
		Stdout: &stdout, InstructionLimit: 20_000_000_000,
		Profile: func(ino, off, w uint64) { weights[[2]uint64{ino, off}] += w },
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := k.Run(); err != nil || status != 0 || stdout.String() != "3000\n" {
		t.Fatalf("status %d, err %v, stdout %q", status, err, stdout.String())
	}
	var total, top uint64
	for _, w := range weights {
		total += w
		top = max(top, w)
	}
	if total > k.Instructions() || k.Instructions()-total > 16 {
		t.Errorf("the profile credits %d instructions, the machine retired %d", total, k.Instructions())
	}
	if len(weights) < 10 || top < total/20 {
		t.Errorf("%d pages, the heaviest %d of %d instructions: no hot page", len(weights), top, total)
	}
}
