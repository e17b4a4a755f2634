package core

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/rtd-project/rtd/driver"
)

// User is a resolved uid and gid.
type User struct {
	UID uint32
	GID uint32
}

// ResolveUser parses "uid[:gid]" where each part is a number or a name
// looked up in the root filesystem's /etc/passwd and /etc/group. A numeric
// uid without a group takes its primary group from /etc/passwd when listed
// there, else 0.
func ResolveUser(rootfs, spec string) (User, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return User{}, driver.InvalidArgumentf("invalid user %q: want uid[:gid] or name[:group]", spec)
	}
	var u User
	if n, err := parseID(userPart); err == nil {
		u.UID = n
		if e, err := findEntry(rootfs, "/etc/passwd", func(f []string) bool { return len(f) > 3 && f[2] == userPart }); err == nil && e != nil {
			if gid, err := parseID(e[3]); err == nil {
				u.GID = gid
			}
		}
	} else {
		e, err := findEntry(rootfs, "/etc/passwd", func(f []string) bool { return len(f) > 3 && f[0] == userPart })
		if err != nil {
			return User{}, driver.InvalidArgumentf("user %q: %v", userPart, err)
		}
		if e == nil {
			return User{}, driver.InvalidArgumentf("user %q not found in the image's /etc/passwd", userPart)
		}
		uid, uerr := parseID(e[2])
		gid, gerr := parseID(e[3])
		if uerr != nil || gerr != nil {
			return User{}, driver.InvalidArgumentf("user %q: malformed /etc/passwd entry", userPart)
		}
		u.UID, u.GID = uid, gid
	}
	if !hasGroup {
		return u, nil
	}
	if n, err := parseID(groupPart); err == nil {
		u.GID = n
		return u, nil
	}
	e, err := findEntry(rootfs, "/etc/group", func(f []string) bool { return len(f) > 2 && f[0] == groupPart })
	if err != nil {
		return User{}, driver.InvalidArgumentf("group %q: %v", groupPart, err)
	}
	if e == nil {
		return User{}, driver.InvalidArgumentf("group %q not found in the image's /etc/group", groupPart)
	}
	gid, err := parseID(e[2])
	if err != nil {
		return User{}, driver.InvalidArgumentf("group %q: malformed /etc/group entry", groupPart)
	}
	u.GID = gid
	return u, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// findEntry returns the colon-separated fields of the first line of the
// image file name (resolved inside rootfs, symlinks included) that match
// reports true for; nil when none does. A missing file is an error only
// for name lookups, which the caller decides.
func findEntry(rootfs, name string, match func([]string) bool) ([]string, error) {
	if rootfs == "" {
		return nil, errors.New("the image has no root filesystem to look names up in")
	}
	p, err := securejoin.SecureJoin(rootfs, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("the image has no " + name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fields := strings.Split(line, ":"); match(fields) {
			return fields, nil
		}
	}
	return nil, sc.Err()
}
