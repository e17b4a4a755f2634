package atomicfile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/kit/atomicfile"
)

// A reader running alongside a writer sees every version whole: with a
// truncate-and-write (os.WriteFile) it sees empty and torn files.
func TestReadersNeverSeeATornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	type rec struct {
		N   int
		Pad string
	}
	if err := atomicfile.WriteJSON(path, rec{Pad: strings.Repeat("x", 1<<16)}, 0o600); err != nil {
		t.Fatal(err)
	}
	done, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 1; i <= 100; i++ {
			select {
			case <-stop: // the reader failed: t must not be used after it returns
				return
			default:
			}
			if err := atomicfile.WriteJSON(path, rec{N: i, Pad: strings.Repeat("x", 1<<16)}, 0o600); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	fail := func(format string, args ...any) {
		close(stop)
		wg.Wait()
		t.Fatalf(format, args...)
	}
	reads := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Fatal("no read ran alongside the writes")
			}
			return
		default:
		}
		var r rec
		if err := atomicfile.ReadJSON(path, &r); err != nil {
			fail("read %d: %v", reads, err)
		}
		if len(r.Pad) != 1<<16 {
			fail("read %d: a torn record (%d bytes of padding)", reads, len(r.Pad))
		}
		reads++
	}
}

func TestWriteFailureLeavesOldContentAndNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := atomicfile.WriteJSON(path, map[string]int{"v": 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteJSON(path, make(chan int), 0o600); err == nil {
		t.Fatal("WriteJSON of a channel succeeded")
	}
	// A rename onto a non-empty directory fails after the temporary file
	// was written: it must be removed.
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(sub, []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	var got map[string]int
	if err := atomicfile.ReadJSON(path, &got); err != nil || got["v"] != 1 {
		t.Fatalf("after failed writes: %v, %v; want the old content", got, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "state.json" && e.Name() != "sub" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestWriteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := atomicfile.WriteFile(path, []byte("a"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v, %v; want 0640", fi.Mode().Perm(), err)
	}
}

func TestReadJSONMissingIsNotExist(t *testing.T) {
	var v any
	if err := atomicfile.ReadJSON(filepath.Join(t.TempDir(), "none"), &v); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadJSON(missing) = %v, want fs.ErrNotExist", err)
	}
}

func ExampleWriteJSON() {
	dir, _ := os.MkdirTemp("", "atomicfile-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "exit.json")

	type exit struct{ Status int }
	if err := atomicfile.WriteJSON(path, exit{Status: 42}, 0o600); err != nil {
		fmt.Println(err)
		return
	}
	var e exit
	if err := atomicfile.ReadJSON(path, &e); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Status)
	// Output: 42
}
