//go:build linux && cgo && !race

package lcmon

/*
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>

// The soft RLIMIT_AS the init's Go runtime starts under. On linux/amd64 the
// runtime first reserves its page summaries (~0.6 GiB, required), then a
// 512 MiB scavenger index it can do without: under 1 GiB that reservation
// fails and the runtime takes ~0.75 GiB in all, leaving ~0.25 GiB for
// threads; without a limit it takes ~1.2-1.5 GiB. (Between ~1.1 and
// ~1.2 GiB the index fits but nothing after it does: the runtime dies.)
#define RTD_INIT_AS_START (1024UL << 20)
// The largest stack a thread of the init gets (glibc's default, which it
// takes from RLIMIT_STACK: 64 MiB stacks under dockerd would not fit).
#define RTD_INIT_THREAD_STACK (8UL << 20)

static rlim_t rtd_init_as_saved = RLIM_INFINITY;
static int rtd_init_as_lowered;

// rtd_init_as_constructor runs before the Go runtime of libcontainer's init
// ("rtd-monitor init", with _LIBCONTAINER_INITPIPE set) starts: it lowers the
// soft RLIMIT_AS so that the runtime reserves less address space, keeps at
// most one malloc arena and caps thread stacks at 8 MiB. libcontainer sets a
// container's rlimits on its init (prlimit) before the init loads the
// seccomp filter; with the Go runtime's unlimited reservations an init under
// a 1 GiB RLIMIT_AS could not allocate anything more (runtime-tools'
// process_rlimits). The Go side restores the saved limit
// (restoreInitAddressSpace) before libcontainer's init runs, so a container
// without an RLIMIT_AS keeps the caller's.
__attribute__((constructor)) static void rtd_init_as_constructor(int argc, char **argv, char **envp) {
	struct rlimit rl;
	if (argc < 2 || strcmp(argv[1], "init") != 0 || getenv("_LIBCONTAINER_INITPIPE") == NULL)
		return;
	pthread_attr_t attr;
	size_t stack;
	mallopt(M_ARENA_MAX, 1);
	if (pthread_getattr_default_np(&attr) == 0) {
		if (pthread_attr_getstacksize(&attr, &stack) == 0 && stack > RTD_INIT_THREAD_STACK &&
		    pthread_attr_setstacksize(&attr, RTD_INIT_THREAD_STACK) == 0)
			pthread_setattr_default_np(&attr);
		pthread_attr_destroy(&attr);
	}
	if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur <= RTD_INIT_AS_START)
		return;
	rtd_init_as_saved = rl.rlim_cur;
	rl.rlim_cur = RTD_INIT_AS_START;
	if (setrlimit(RLIMIT_AS, &rl) == 0)
		rtd_init_as_lowered = 1;
}

static int rtd_init_as_restore(void) {
	struct rlimit rl;
	if (!rtd_init_as_lowered)
		return 0;
	rtd_init_as_lowered = 0;
	if (getrlimit(RLIMIT_AS, &rl) != 0)
		return -1;
	rl.rlim_cur = rtd_init_as_saved;
	return setrlimit(RLIMIT_AS, &rl);
}
*/
import "C"

// restoreInitAddressSpace gives libcontainer's init back the soft
// RLIMIT_AS it was started with (see rtd_init_as_constructor). It is called
// first thing in the init, before libcontainer's init code runs.
func restoreInitAddressSpace() {
	_ = C.rtd_init_as_restore()
}
