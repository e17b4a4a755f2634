package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rtd-project/rtd/bench"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
)

// memory reads the memory of a linux driver process and of its per-container
// monitors with 1 and with 20 containers running.
func (e *env) memory(res *bench.Results) error {
	state := filepath.Join(e.work, "memstate")
	p, err := e.launchAt("linux", state)
	if err != nil {
		return err
	}
	defer p.Close()
	c := p.Client()
	counts := []int{1, 20}
	if e.o.smoke {
		counts = []int{1, 2}
	}
	started := 0
	for _, want := range counts {
		for ; started < want; started++ {
			id := fmt.Sprintf("mem%d", started)
			if _, err := c.Create(e.ctx, &driver.CreateRequest{ID: id, Bundle: e.sleeper}); err != nil {
				return err
			}
			defer c.Delete(e.ctx, &driver.DeleteRequest{ID: id, Force: true})
			if err := c.Start(e.ctx, id); err != nil {
				return err
			}
		}
		time.Sleep(300 * time.Millisecond) // let the monitors settle
		pids := monitorsUnder(state)
		if len(pids) != want {
			return fmt.Errorf("%d rtd-monitor processes under %s, want %d", len(pids), state, want)
		}
		var rss, anon, pss []int
		for _, pid := range pids {
			m := readMemory(pid)
			rss, anon, pss = append(rss, m.rssKB), append(anon, m.anonKB), append(pss, m.pssKB)
		}
		r := medianInt(rss)
		res.Values = append(res.Values,
			bench.Value{Name: fmt.Sprintf("rtd-monitor RSS (VmRSS, median of %d running)", want), Value: mb(r), Goal: "<= 4 MB", Met: bench.Met(r > 0 && r <= 4096)},
			bench.Value{Name: fmt.Sprintf("rtd-monitor private memory (RssAnon, median of %d running)", want), Value: mb(medianInt(anon)),
				Note: "what one more container costs; the rest of VmRSS is the rtd-monitor binary's pages, shared by all monitors"},
			bench.Value{Name: fmt.Sprintf("rtd-monitor PSS (shared pages divided among sharers, median of %d running)", want), Value: mb(medianInt(pss))},
			bench.Value{Name: fmt.Sprintf("linux driver process RSS (VmRSS, %d running)", want), Value: mb(readMemory(p.Pid()).rssKB)})
	}
	return nil
}

// procMemory is a process's memory as /proc reports it, in kB.
type procMemory struct {
	rssKB, anonKB, pssKB int
}

// readMemory reads VmRSS and RssAnon from /proc/PID/status and Pss from
// /proc/PID/smaps_rollup (zeros for a process that is gone).
func readMemory(pid int) procMemory {
	var m procMemory
	fields := func(file string, keys map[string]*int) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				if p, ok := keys[f[0]]; ok {
					*p, _ = strconv.Atoi(f[1])
				}
			}
		}
	}
	fields("status", map[string]*int{"VmRSS:": &m.rssKB, "RssAnon:": &m.anonKB})
	fields("smaps_rollup", map[string]*int{"Pss:": &m.pssKB})
	return m
}

// monitorsUnder returns the pids of the rtd-monitor processes of a driver
// state directory.
func monitorsUnder(state string) []int {
	var pids []int
	for _, pid := range testutil.Pids() {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		if strings.TrimSpace(string(comm)) == "rtd-monitor" && len(args) > 1 && args[1] == state {
			pids = append(pids, pid)
		}
	}
	return pids
}

// medianInt is the median of xs (the upper one of an even count).
func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	return s[len(s)/2]
}

// mb formats kB as MB.
func mb(kb int) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
