package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	page = 4096
	// minRun is the shortest run of fill bytes left out of the file.
	minRun   = 64 << 10
	ehdrSize = 64
	phdrSize = 56
)

// piece is a part of a PT_LOAD segment that stays in the file.
type piece struct {
	vaddr, paddr uint64
	flags        elf.ProgFlag
	data         []byte
	memsz        uint64
	off          uint64 // in the packed file
}

// Pack rewrites a 64-bit little-endian ELF executable (a vmlinux) so that
// runs of padding inside its PT_LOAD segments (zeros, or the 0xcc the
// linker fills x86 text with) are not in the file: each segment is split
// around them, and the pieces are laid out back to back (page-aligned
// offsets) instead of at their 2 MB alignment. Only the program headers are
// kept (a boot loader reads nothing else; the PVH entry is a PT_NOTE), so
// the guest's memory image is the same except that the left-out padding
// is not written (QEMU's RAM is zero there).
func Pack(in []byte, w io.Writer) (int64, error) {
	f, err := elf.NewFile(bytes.NewReader(in))
	if err != nil {
		return 0, fmt.Errorf("not an ELF file: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return 0, errors.New("not a 64-bit little-endian ELF")
	}
	var pieces []*piece
	var others []*elf.Prog
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			others = append(others, p)
			continue
		}
		if p.Off+p.Filesz > uint64(len(in)) {
			return 0, fmt.Errorf("segment at %#x runs past the end of the file", p.Vaddr)
		}
		pieces = append(pieces, split(p, in[p.Off:p.Off+p.Filesz])...)
	}
	if len(pieces) == 0 {
		return 0, errors.New("no PT_LOAD segment")
	}
	// Layout: headers, then each piece at the next offset congruent to
	// its address modulo the page size.
	n := len(pieces) + len(others)
	off := uint64(ehdrSize + n*phdrSize)
	for _, pc := range pieces {
		off = alignTo(off, pc.vaddr)
		pc.off = off
		off += uint64(len(pc.data))
	}
	var phdrs []elf.Prog64
	for _, pc := range pieces {
		phdrs = append(phdrs, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(pc.flags), Off: pc.off,
			Vaddr: pc.vaddr, Paddr: pc.paddr, Filesz: uint64(len(pc.data)), Memsz: pc.memsz, Align: page})
	}
	for _, p := range others {
		// Notes and the like point into a loaded segment: find the piece
		// holding their bytes.
		h := elf.Prog64{Type: uint32(p.Type), Flags: uint32(p.Flags), Vaddr: p.Vaddr, Paddr: p.Paddr, Memsz: p.Memsz, Align: p.Align}
		if p.Filesz > 0 {
			pc := holding(pieces, p.Vaddr, p.Filesz)
			if pc == nil {
				return 0, fmt.Errorf("%s segment at %#x is not inside a kept piece", p.Type, p.Vaddr)
			}
			h.Off, h.Filesz = pc.off+(p.Vaddr-pc.vaddr), p.Filesz
		}
		phdrs = append(phdrs, h)
	}
	hdr := elf.Header64{}
	if err := binary.Read(bytes.NewReader(in), binary.LittleEndian, &hdr); err != nil {
		return 0, err
	}
	hdr.Phoff, hdr.Phnum, hdr.Phentsize = ehdrSize, uint16(len(phdrs)), phdrSize
	hdr.Shoff, hdr.Shnum, hdr.Shstrndx = 0, 0, 0
	var out bytes.Buffer
	_ = binary.Write(&out, binary.LittleEndian, &hdr)
	_ = binary.Write(&out, binary.LittleEndian, phdrs)
	for _, pc := range pieces {
		out.Write(make([]byte, pc.off-uint64(out.Len())))
		out.Write(pc.data)
	}
	return out.WriteTo(w)
}

// split cuts a segment's file bytes around long runs of one fill byte,
// at page boundaries of its addresses.
func split(p *elf.Prog, data []byte) []*piece {
	var pieces []*piece
	start := uint64(0) // of the current piece, in data
	for i := uint64(0); i < uint64(len(data)); {
		b := data[i]
		if b != 0 && b != 0xcc {
			i++
			continue
		}
		j := i
		for j < uint64(len(data)) && data[j] == b {
			j++
		}
		// The page-aligned part of the run [i, j), by address.
		lo := roundUp(p.Vaddr+i, page) - p.Vaddr
		hi := (p.Vaddr+j)&^(page-1) - p.Vaddr
		if j < uint64(len(data)) && hi > lo && hi-lo >= minRun && lo > start {
			pieces = append(pieces, &piece{vaddr: p.Vaddr + start, paddr: p.Paddr + start, flags: p.Flags,
				data: data[start:lo], memsz: lo - start})
			start = hi
		}
		i = j
	}
	return append(pieces, &piece{vaddr: p.Vaddr + start, paddr: p.Paddr + start, flags: p.Flags,
		data: data[start:], memsz: p.Memsz - start})
}

// holding returns the piece whose file bytes hold [vaddr, vaddr+n).
func holding(pieces []*piece, vaddr, n uint64) *piece {
	for _, pc := range pieces {
		if vaddr >= pc.vaddr && vaddr+n <= pc.vaddr+uint64(len(pc.data)) {
			return pc
		}
	}
	return nil
}

func roundUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// alignTo returns the first offset >= off congruent to vaddr modulo page.
func alignTo(off, vaddr uint64) uint64 {
	return off + (vaddr%page-off%page+page)%page
}
