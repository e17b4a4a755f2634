//go:build !unix

package main

// linuxSignals are the Linux numbers of the common signals, for drivers on
// an OS without POSIX signals of its own.
var linuxSignals = map[string]uint32{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
	"SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12,
	"SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGCHLD": 17, "SIGCONT": 18,
	"SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGWINCH": 28,
}

// signalNumber is the Linux number of a signal name; 0 if unknown.
func signalNumber(name string) uint32 { return linuxSignals[name] }
