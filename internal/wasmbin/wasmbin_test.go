package wasmbin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		head string
		want Kind
	}{
		{"\x00asm\x01\x00\x00\x00rest", Module},
		{"\x00asm\x0d\x00\x01\x00", Component},
		{"\x7fELF\x02\x01\x01", ELF},
		{"#!/bin/sh\n", Script},
		{"\x00as", Other},
		{"", Other},
	} {
		if got := Classify(strings.NewReader(tc.head)); got != tc.want {
			t.Errorf("Classify(%q) = %s, want %s", tc.head, got, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("app/hello.wasm", "\x00asm\x01\x00\x00\x00")
	write("bin/tool", "\x7fELF....")
	// A symlink pointing outside the root resolves inside it.
	if err := os.Symlink("/app/hello.wasm", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	p, err := Find(root, "/app/hello.wasm#run", "/", nil)
	if err != nil || p.Kind != Module || p.Export != "run" || p.Guest != "/app/hello.wasm" {
		t.Fatalf("Find abs = %+v, %v", p, err)
	}
	if p, err := Find(root, "tool", "/", []string{"PATH=/bin"}); err != nil || p.Kind != ELF {
		t.Fatalf("Find via PATH = %+v, %v", p, err)
	}
	if p, err := Find(root, "hello.wasm", "/app", nil); err != nil || p.Kind != Module {
		t.Fatalf("Find in cwd = %+v, %v", p, err)
	}
	if p, err := Find(root, "/link", "/", nil); err != nil || p.Host != filepath.Join(root, "app/hello.wasm") {
		t.Fatalf("Find symlink = %+v, %v", p, err)
	}
	if _, err := Find(root, "/nope", "/", nil); !IsNotExist(err) {
		t.Fatalf("Find missing: %v, want not exist", err)
	}
}
