// native_runner executes x86-64 test cases on the host CPU for the
// differential tests of package amd64 (see native_test.go, which builds it
// with gcc -O1 and starts one process for many cases).
//
// Usage: native_runner DATA_ADDR CODE_ADDR (decimal or 0x hex).
//
// It maps DATA_SIZE bytes of data read-write at DATA_ADDR and one code page
// read-write-execute at CODE_ADDR, both with MAP_FIXED_NOREPLACE, with
// inaccessible guard pages around them, and writes the 8 bytes "RUNNERv1"
// to stdout when ready. Then, until end of input, it reads one case from
// stdin and answers with one result on stdout. All integers are
// little-endian.
//
// Case:
//   u32 code length (at most CODE_SIZE - 64)
//   code bytes
//   regs (struct regs below, 400 bytes): the input registers
//   DATA_SIZE bytes: the input data area
// Result:
//   u32 signal number (0: the code ran to its end)
//   u32 si_code
//   u64 si_addr
//   u64 rip: the faulting instruction, or CODE_ADDR + code length
//   u64 trap number and u64 error code (from the signal context)
//   regs: the output registers (for a signal, those of the signal context)
//   DATA_SIZE bytes: the output data area
//
// A case runs with all general-purpose registers, XMM0-15, MXCSR and the
// arithmetic flags and DF taken from the input; its code is followed by a
// jump to an epilogue that saves them without touching the data area.
// SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP end a case with the state of
// the signal context; SIGALRM (a 5-second alarm) ends a case that loops.

#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define DATA_SIZE 0x2000
#define CODE_SIZE 0x1000
#define PAGE 0x1000

// struct regs is the register part of machineState in native_test.go. The
// assembly below uses its offsets: gpr 0, rflags 128, xmm 136, mxcsr 392.
struct regs {
	uint64_t gpr[16]; // rax rcx rdx rbx rsp rbp rsi rdi r8-r15
	uint64_t rflags;
	uint64_t xmm[16][2];
	uint32_t mxcsr;
	uint32_t pad;
};

_Static_assert(sizeof(struct regs) == 400, "struct regs layout");

struct result {
	uint32_t signo;
	uint32_t code;
	uint64_t addr;
	uint64_t rip;
	uint64_t trapno;
	uint64_t err;
};

_Static_assert(sizeof(struct result) == 40, "struct result layout");

// Shared with the assembly: not static, so that their names stay as they
// are.
struct regs case_in, case_out;
uint64_t runner_rsp;  // the runner's stack pointer while a case runs
uint64_t case_entry;  // CODE_ADDR
uint32_t runner_mxcsr = 0x1f80;

void run_case(void);
void case_epilogue(void);

// run_case loads case_in, jumps to the case's code and returns after the
// code has jumped to case_epilogue, which stores case_out. It saves the
// callee-saved registers; the C code around it sees an ordinary call.
//
// RFLAGS is loaded with popfq while still on the runner's stack, and the
// epilogue stores RAX first with a RIP-relative move (no base register),
// then every other register, and only then switches to the runner's stack
// for pushfq: nothing touches the case's stack or data area.
__asm__(
	".intel_syntax noprefix\n"
	".text\n"
	".globl run_case\n"
	".type run_case, @function\n"
	"run_case:\n"
	"	push rbx\n"
	"	push rbp\n"
	"	push r12\n"
	"	push r13\n"
	"	push r14\n"
	"	push r15\n"
	"	mov [rip + runner_rsp], rsp\n"
	"	lea rax, [rip + case_in]\n"
	"	movdqu xmm0, [rax + 136 + 0*16]\n"
	"	movdqu xmm1, [rax + 136 + 1*16]\n"
	"	movdqu xmm2, [rax + 136 + 2*16]\n"
	"	movdqu xmm3, [rax + 136 + 3*16]\n"
	"	movdqu xmm4, [rax + 136 + 4*16]\n"
	"	movdqu xmm5, [rax + 136 + 5*16]\n"
	"	movdqu xmm6, [rax + 136 + 6*16]\n"
	"	movdqu xmm7, [rax + 136 + 7*16]\n"
	"	movdqu xmm8, [rax + 136 + 8*16]\n"
	"	movdqu xmm9, [rax + 136 + 9*16]\n"
	"	movdqu xmm10, [rax + 136 + 10*16]\n"
	"	movdqu xmm11, [rax + 136 + 11*16]\n"
	"	movdqu xmm12, [rax + 136 + 12*16]\n"
	"	movdqu xmm13, [rax + 136 + 13*16]\n"
	"	movdqu xmm14, [rax + 136 + 14*16]\n"
	"	movdqu xmm15, [rax + 136 + 15*16]\n"
	"	ldmxcsr [rax + 392]\n"
	"	push qword ptr [rax + 128]\n"
	"	popfq\n"
	// From here on only moves and the jump: the flags stay as loaded.
	"	mov rsp, [rax + 4*8]\n"
	"	mov rcx, [rax + 1*8]\n"
	"	mov rdx, [rax + 2*8]\n"
	"	mov rbx, [rax + 3*8]\n"
	"	mov rbp, [rax + 5*8]\n"
	"	mov rsi, [rax + 6*8]\n"
	"	mov rdi, [rax + 7*8]\n"
	"	mov r8, [rax + 8*8]\n"
	"	mov r9, [rax + 9*8]\n"
	"	mov r10, [rax + 10*8]\n"
	"	mov r11, [rax + 11*8]\n"
	"	mov r12, [rax + 12*8]\n"
	"	mov r13, [rax + 13*8]\n"
	"	mov r14, [rax + 14*8]\n"
	"	mov r15, [rax + 15*8]\n"
	"	mov rax, [rax + 0*8]\n"
	"	jmp qword ptr [rip + case_entry]\n"
	".size run_case, . - run_case\n"
	"\n"
	".globl case_epilogue\n"
	".type case_epilogue, @function\n"
	"case_epilogue:\n"
	"	mov [rip + case_out + 0*8], rax\n"
	"	mov [rip + case_out + 1*8], rcx\n"
	"	mov [rip + case_out + 2*8], rdx\n"
	"	mov [rip + case_out + 3*8], rbx\n"
	"	mov [rip + case_out + 4*8], rsp\n"
	"	mov [rip + case_out + 5*8], rbp\n"
	"	mov [rip + case_out + 6*8], rsi\n"
	"	mov [rip + case_out + 7*8], rdi\n"
	"	mov [rip + case_out + 8*8], r8\n"
	"	mov [rip + case_out + 9*8], r9\n"
	"	mov [rip + case_out + 10*8], r10\n"
	"	mov [rip + case_out + 11*8], r11\n"
	"	mov [rip + case_out + 12*8], r12\n"
	"	mov [rip + case_out + 13*8], r13\n"
	"	mov [rip + case_out + 14*8], r14\n"
	"	mov [rip + case_out + 15*8], r15\n"
	"	mov rsp, [rip + runner_rsp]\n"
	"	pushfq\n"
	"	pop qword ptr [rip + case_out + 128]\n"
	"	movdqu [rip + case_out + 136 + 0*16], xmm0\n"
	"	movdqu [rip + case_out + 136 + 1*16], xmm1\n"
	"	movdqu [rip + case_out + 136 + 2*16], xmm2\n"
	"	movdqu [rip + case_out + 136 + 3*16], xmm3\n"
	"	movdqu [rip + case_out + 136 + 4*16], xmm4\n"
	"	movdqu [rip + case_out + 136 + 5*16], xmm5\n"
	"	movdqu [rip + case_out + 136 + 6*16], xmm6\n"
	"	movdqu [rip + case_out + 136 + 7*16], xmm7\n"
	"	movdqu [rip + case_out + 136 + 8*16], xmm8\n"
	"	movdqu [rip + case_out + 136 + 9*16], xmm9\n"
	"	movdqu [rip + case_out + 136 + 10*16], xmm10\n"
	"	movdqu [rip + case_out + 136 + 11*16], xmm11\n"
	"	movdqu [rip + case_out + 136 + 12*16], xmm12\n"
	"	movdqu [rip + case_out + 136 + 13*16], xmm13\n"
	"	movdqu [rip + case_out + 136 + 14*16], xmm14\n"
	"	movdqu [rip + case_out + 136 + 15*16], xmm15\n"
	"	stmxcsr [rip + case_out + 392]\n"
	// The C ABI wants DF clear and the runner's own MXCSR; AC and TF,
	// should a case have set them, must not follow the runner either.
	"	push 0x202\n"
	"	popfq\n"
	"	ldmxcsr [rip + runner_mxcsr]\n"
	"	pop r15\n"
	"	pop r14\n"
	"	pop r13\n"
	"	pop r12\n"
	"	pop rbp\n"
	"	pop rbx\n"
	"	ret\n"
	".size case_epilogue, . - case_epilogue\n"
	".att_syntax prefix\n");

static uint64_t data_addr, code_addr;
static uint8_t *code;
static sigjmp_buf case_jmp;
static volatile sig_atomic_t case_running;
static struct result res;

static void die(const char *what) {
	fprintf(stderr, "native_runner: %s: %s\n", what, strerror(errno));
	exit(2);
}

// map_fixed maps len bytes at addr and fails clearly if anything is there.
static void map_fixed(uint64_t addr, size_t len, int prot, const char *what) {
	void *p = mmap((void *)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "native_runner: mapping the %s at %#lx: %s (is the address taken?)\n",
			what, (unsigned long)addr, strerror(errno));
		exit(2);
	}
	if ((uint64_t)p != addr) {
		// A kernel before 4.17 ignores MAP_FIXED_NOREPLACE and takes the
		// address as a hint.
		fprintf(stderr, "native_runner: the %s landed at %p instead of %#lx\n", what, p,
			(unsigned long)addr);
		exit(2);
	}
}

// The order of greg_t entries in ucontext's gregs for each register in
// encoding order.
static const int greg_index[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_signal(int sig, siginfo_t *si, void *ucv) {
	// The kernel keeps AC for the handler: should a case have set it,
	// the handler's own unaligned accesses would fault.
	__asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc");
	if (!case_running) {
		if (sig == SIGALRM)
			return;
		// A fault in the runner itself: die with it.
		signal(sig, SIG_DFL);
		return;
	}
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	for (int i = 0; i < 16; i++)
		case_out.gpr[i] = (uint64_t)g[greg_index[i]];
	case_out.rflags = (uint64_t)g[REG_EFL];
	if (uc->uc_mcontext.fpregs) {
		memcpy(case_out.xmm, uc->uc_mcontext.fpregs->_xmm, sizeof case_out.xmm);
		case_out.mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	}
	res.signo = (uint32_t)sig;
	res.code = (uint32_t)si->si_code;
	res.addr = (uint64_t)si->si_addr;
	res.rip = (uint64_t)g[REG_RIP];
	res.trapno = (uint64_t)g[REG_TRAPNO];
	res.err = (uint64_t)g[REG_ERR];
	case_running = 0;
	siglongjmp(case_jmp, 1);
}

static int read_full(void *buf, size_t n) {
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = read(0, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			return 0;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

static void write_full(const void *buf, size_t n) {
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = write(1, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("write");
		p += r;
		n -= (size_t)r;
	}
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: native_runner DATA_ADDR CODE_ADDR\n");
		return 2;
	}
	data_addr = strtoull(argv[1], NULL, 0);
	code_addr = strtoull(argv[2], NULL, 0);
	case_entry = code_addr;

	map_fixed(data_addr - PAGE, PAGE, PROT_NONE, "guard page below the data");
	map_fixed(data_addr, DATA_SIZE, PROT_READ | PROT_WRITE, "data area");
	map_fixed(data_addr + DATA_SIZE, PAGE, PROT_NONE, "guard page above the data");
	map_fixed(code_addr, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, "code page");
	map_fixed(code_addr + CODE_SIZE, PAGE, PROT_NONE, "guard page above the code");
	code = (uint8_t *)code_addr;

	// The signal frame must not land on the case's stack, which is in the
	// data area: handlers run on their own stack. 256 KiB fits any XSAVE
	// frame (AVX-512 included).
	stack_t ss = {.ss_size = 256 << 10};
	ss.ss_sp = malloc(ss.ss_size);
	if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0)
		die("sigaltstack");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			die("sigaction");

	write_full("RUNNERv1", 8);

	for (;;) {
		uint32_t len;
		if (!read_full(&len, sizeof len))
			return 0;
		if (len > CODE_SIZE - 64) {
			fprintf(stderr, "native_runner: code of %u bytes is too long\n", len);
			return 2;
		}
		// ud2 everywhere, so that a stray jump ends in SIGILL; the case's
		// code is followed by jmp [rip+0] to the epilogue.
		for (int i = 0; i < CODE_SIZE; i += 2) {
			code[i] = 0x0f;
			code[i + 1] = 0x0b;
		}
		if (!read_full(code, len))
			goto truncated;
		static const uint8_t jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0};
		memcpy(code + len, jmp_abs, sizeof jmp_abs);
		uint64_t epilogue = (uint64_t)(uintptr_t)case_epilogue;
		memcpy(code + len + sizeof jmp_abs, &epilogue, sizeof epilogue);
		if (!read_full(&case_in, sizeof case_in))
			goto truncated;
		if (!read_full((void *)data_addr, DATA_SIZE))
			goto truncated;

		// Only the arithmetic flags and DF come from the case: TF would
		// trap and AC would make misaligned accesses fault. Bit 1 and IF
		// are always set.
		case_in.rflags = (case_in.rflags & 0xcd5) | 0x202;
		memset(&case_out, 0, sizeof case_out);
		memset(&res, 0, sizeof res);
		res.rip = code_addr + len;
		// sigsetjmp saves the signal mask, so that siglongjmp out of the
		// handler unblocks the signal again.
		if (sigsetjmp(case_jmp, 1) == 0) {
			alarm(5);
			case_running = 1;
			run_case();
			case_running = 0;
			alarm(0);
		} else {
			alarm(0);
			// The handler ran with the kernel's default MXCSR and DF
			// clear; set the runner's MXCSR explicitly anyway.
			__builtin_ia32_ldmxcsr(runner_mxcsr);
		}
		write_full(&res, sizeof res);
		write_full(&case_out, sizeof case_out);
		write_full((void *)data_addr, DATA_SIZE);
	}

truncated:
	fprintf(stderr, "native_runner: truncated case on stdin\n");
	return 2;
}
