package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
)

// testELF is an executable with one PT_LOAD segment at vaddr whose file
// bytes are data (memsz adds bss), and a PT_NOTE over noteLen bytes at
// noteAt inside it; the segment sits at a 2 MB-aligned offset, as in a
// vmlinux.
func testELF(t *testing.T, vaddr uint64, data []byte, bss, noteAt, noteLen uint64) []byte {
	t.Helper()
	const off = 2 << 20
	hdr := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1, Entry: vaddr,
		Phoff: ehdrSize, Ehsize: ehdrSize, Phentsize: phdrSize, Phnum: 2}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	phdrs := []elf.Prog64{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: off, Vaddr: vaddr, Paddr: vaddr - 0x80000000,
			Filesz: uint64(len(data)), Memsz: uint64(len(data)) + bss, Align: 2 << 20},
		{Type: uint32(elf.PT_NOTE), Off: off + noteAt, Vaddr: vaddr + noteAt, Paddr: vaddr + noteAt - 0x80000000,
			Filesz: noteLen, Memsz: noteLen, Align: 4},
	}
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, &hdr)
	_ = binary.Write(&b, binary.LittleEndian, phdrs)
	b.Write(make([]byte, off-b.Len()))
	b.Write(data)
	return b.Bytes()
}

// memory returns the guest memory image a loader makes of an ELF's
// PT_LOAD segments: address -> byte (bss and unloaded holes absent).
func memory(t *testing.T, file []byte) (map[uint64]byte, uint64) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint64]byte{}
	var end uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Vaddr-p.Paddr != 0x80000000 {
			t.Errorf("segment at %#x: paddr %#x, want vaddr - 0x80000000", p.Vaddr, p.Paddr)
		}
		if p.Off%page != p.Vaddr%page {
			t.Errorf("segment at %#x: offset %#x not congruent to its address", p.Vaddr, p.Off)
		}
		for i := uint64(0); i < p.Filesz; i++ {
			m[p.Vaddr+i] = file[p.Off+i]
		}
		end = max(end, p.Vaddr+p.Memsz)
	}
	return m, end
}

// Pack leaves the long runs of padding out of the file and nothing else:
// every other byte lands at the same address, the segment ends where it
// did (bss included), short runs stay, and the PVH note is still found.
func TestPackKeepsTheMemoryImage(t *testing.T) {
	const vaddr = 0xffffffff81000000
	var data []byte
	data = append(data, bytes.Repeat([]byte{0x90}, 3*page+100)...) // code
	note := uint64(len(data))
	data = append(data, []byte("\x04\x00\x00\x00\x08\x00\x00\x00\x12\x00\x00\x00Xen\x00\xa0\x04\x00\x01\x00\x00\x00\x00")...)
	data = append(data, make([]byte, 300<<10)...)               // a long zero run: left out
	data = append(data, bytes.Repeat([]byte{0x48}, 2*page)...)  // more code
	data = append(data, bytes.Repeat([]byte{0xcc}, 200<<10)...) // int3 fill: left out
	data = append(data, bytes.Repeat([]byte{0x11}, page)...)    // rodata
	data = append(data, make([]byte, 16<<10)...)                // a short run: kept
	data = append(data, bytes.Repeat([]byte{0x22}, 1000)...)    // data
	data = append(data, make([]byte, 100<<10)...)               // zeros at the end: kept
	in := testELF(t, vaddr, data, 8192, note, 24)

	var out bytes.Buffer
	n, err := Pack(in, &out)
	if err != nil {
		t.Fatal(err)
	}
	packed := out.Bytes()
	if n != int64(len(packed)) || len(packed) > len(in)-(2<<20)-(450<<10) {
		t.Errorf("packed %d bytes of %d (reported %d): want the 2 MB offset and both long runs gone", len(packed), len(in), n)
	}
	was, wasEnd := memory(t, in)
	got, gotEnd := memory(t, packed)
	if gotEnd != wasEnd {
		t.Errorf("memory ends at %#x, was %#x", gotEnd, wasEnd)
	}
	left := 0
	for a, b := range was {
		g, ok := got[a]
		switch {
		case ok && g != b:
			t.Fatalf("byte at %#x is %#x, was %#x", a, g, b)
		case !ok && b != 0 && b != 0xcc:
			t.Fatalf("byte %#x at %#x left out", b, a)
		case !ok:
			left++
		}
	}
	if want := (300 << 10) + (200 << 10) - 4*page; left < want || left > (500<<10) {
		t.Errorf("%d bytes left out, want about the two long runs (%d..%d)", left, want, 500<<10)
	}
	for a := range got {
		if _, ok := was[a]; !ok {
			t.Fatalf("byte at %#x loaded that was not", a)
		}
	}
	f, err := elf.NewFile(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			found = bytes.Contains(b, []byte("Xen\x00\xa0\x04\x00\x01"))
		}
	}
	if !found || len(f.Sections) != 0 {
		t.Errorf("PVH note found: %v, %d sections: want the note through its PT_NOTE and no sections", found, len(f.Sections))
	}
}

func TestPackRefusesWhatIsNotAnELF(t *testing.T) {
	if _, err := Pack([]byte("#!/bin/sh\n"), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "ELF") {
		t.Errorf("Pack of a script: %v, want an error saying it is not an ELF", err)
	}
}
