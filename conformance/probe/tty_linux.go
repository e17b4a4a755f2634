//go:build linux

package probe

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

func isTTY(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// winsize prints "ready", waits for SIGWINCH and prints the terminal size
// of stdout as "ROWS COLS".
func winsize() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGWINCH)
	fmt.Println("ready")
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		fmt.Println("no SIGWINCH")
		return 1
	}
	ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("size %d %d\n", ws.Row, ws.Col)
	return 0
}
