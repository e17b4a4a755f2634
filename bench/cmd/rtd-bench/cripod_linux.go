package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/rtd-project/rtd/bench"
)

// criPod measures a CRI pod's start latency (crictl runp, create, start of
// one sleeping container, on a CNI bridge network, under one containerd
// 2.2.9) with the shim's pods = "sandbox" mode, where each pod is one
// driver sandbox: rtd-vm (one VM per pod) vs rtd-linux (a holder process),
// and rtd-linux's sandbox mode vs its podsandbox mode (the containers join
// the pause container's namespaces by path).
func (e *env) criPod(res *bench.Results) error {
	if _, err := exec.LookPath("/usr/lib/cni/bridge"); err != nil {
		return skipf("CNI plugins not installed (apt-get install containernetworking-plugins)")
	}
	x := 100 + rand.IntN(150)
	bridge := fmt.Sprintf("rtdbench%d", x)
	handlers := map[string]string{
		"rtd-linux-sandbox": "      driver = \"linux\"\n      pods = \"sandbox\"",
		"rtd-vm-sandbox":    "      driver = \"vm\"\n      pods = \"sandbox\"",
	}
	s, stop, err := e.startShimEnv("cripod", handlers, fmt.Sprintf(criBridge, bridge, x, filepath.Join(e.work, "cripod", "ipam")))
	if err != nil {
		return err
	}
	defer func() {
		stop()
		_ = exec.Command("ip", "link", "del", bridge).Run()
	}()
	p, err := bench.AB("cripod: CRI pod + container to running (runp, create, start; CNI bridge; containerd 2.2.9), rtd-linux: pods = \"sandbox\" vs podsandbox mode",
		"rtd-linux sandbox", "rtd-linux podsandbox", e.o.n, s.netPodSample("rtd-linux-sandbox"), s.netPodSample("rtd-linux"))
	if err != nil {
		return err
	}
	res.Pairs = append(res.Pairs, p)
	if err := e.ready("vm"); err != nil {
		return err
	}
	if e.o.smoke {
		// Two VM pods would add a minute to make test under load.
		res.Skipped = append(res.Skipped, "cripod: rtd-vm vs rtd-linux: not in a smoke run (tests/containerd's TestCRIPodSandbox/vm runs a VM pod through CRI)")
		return nil
	}
	n := min(e.o.n, 3) // a VM per sample, seconds to tens under TCG
	p, err = bench.AB("cripod: CRI pod + container to running (runp, create, start; CNI bridge; containerd 2.2.9), pods = \"sandbox\": rtd-vm vs rtd-linux",
		"rtd-vm sandbox", "rtd-linux sandbox", n, s.netPodSample("rtd-vm-sandbox"), s.netPodSample("rtd-linux-sandbox"))
	if err != nil {
		return err
	}
	res.Pairs = append(res.Pairs, p)
	return nil
}

// criBridge is the step's CNI config: a bridge (name %[1]s) on
// 10.%[2]d.200.0/24 (tests/containerd's bridges take 10.X.0.0/24), no
// masquerade, its leases in %[3]s.
const criBridge = `{
  "cniVersion": "1.0.0",
  "name": "rtdbench",
  "plugins": [
    {"type": "bridge", "bridge": "%[1]s", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.%[2]d.200.0/24"}]], "dataDir": "%[3]s"}},
    {"type": "loopback"}
  ]
}`

// netPodSample times runp + create + start of a pod on the pod network
// (CNI) with one sleeping container; the pod is removed untimed.
func (s *shimEnv) netPodSample(handler string) bench.Sample {
	return func() (d time.Duration, err error) {
		name := s.e.id("cripod")
		pod := filepath.Join(s.dir, name+"-pod.json")
		ctr := filepath.Join(s.dir, name+"-ctr.json")
		pj, _ := json.Marshal(map[string]any{
			"metadata": map[string]any{"name": name, "namespace": "rtdbench", "uid": name, "attempt": 0},
			"linux":    map[string]any{},
		})
		cj, _ := json.Marshal(map[string]any{
			"metadata": map[string]any{"name": "c"},
			"image":    map[string]any{"image": benchImage},
			"command":  []string{"/bin/sleep", "100000"},
			"linux":    map[string]any{},
		})
		if err := os.WriteFile(pod, pj, 0o600); err != nil {
			return 0, err
		}
		if err := os.WriteFile(ctr, cj, 0o600); err != nil {
			return 0, err
		}
		start := time.Now()
		id, err := s.crictl("runp", "--runtime", handler, pod)
		if err == nil {
			var cid string
			if cid, err = s.crictl("create", id, ctr, pod); err == nil {
				_, err = s.crictl("start", cid)
			}
		}
		d = time.Since(start)
		if id != "" {
			if _, rerr := s.crictl("rmp", "-f", id); rerr != nil && err == nil {
				err = rerr
			}
		}
		return d, err
	}
}
