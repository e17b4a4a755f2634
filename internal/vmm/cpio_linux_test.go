package vmm

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func TestCpioIsNewcAligned(t *testing.T) {
	var buf bytes.Buffer
	files := []File{
		{Name: "dev", Mode: ModeDir | 0o755},
		{Name: "dev/console", Mode: ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "init", Mode: ModeReg | 0o755, Data: []byte("abcde")},
	}
	if err := WriteCpio(&buf, files); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var names []string
	for off := 0; off < len(data); {
		if off%4 != 0 || string(data[off:off+6]) != "070701" {
			t.Fatalf("no newc header at %d", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(data[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return int(v)
		}
		size, namesize := field(6), field(11)
		name := string(data[off+110 : off+110+namesize-1])
		names = append(names, name)
		if name == "dev/console" && (field(9) != 5 || field(10) != 1) {
			t.Errorf("dev/console is %d:%d", field(9), field(10))
		}
		off += 110 + namesize
		off = (off + 3) &^ 3
		if name == "init" && string(data[off:off+size]) != "abcde" {
			t.Errorf("init holds %q", data[off:off+size])
		}
		off += size
		off = (off + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(data) {
				t.Errorf("%d bytes after the trailer", len(data)-off)
			}
			break
		}
	}
	if strings.Join(names, " ") != "dev dev/console init TRAILER!!!" {
		t.Errorf("entries %v", names)
	}
}
