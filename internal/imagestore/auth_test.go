package imagestore_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/rtd-project/rtd/internal/imagestore"
	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// A registry that wants credentials gets them from the docker config
// ($DOCKER_CONFIG/config.json, as `docker login` writes it): none or
// wrong ones are refused as PermissionDenied, naming docker login; the
// right ones pull.
func TestPullWithDockerConfigAuth(t *testing.T) {
	var locked atomic.Bool
	host := testimage.Registry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); locked.Load() && (!ok || u != "rtd" || p != "s3cret") {
				w.Header().Set("WWW-Authenticate", `Basic realm="rtd-test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := host + "/private/app:1"
	dig := testimage.Push(t, ref, testimage.Image(t, testimage.Config{Cmd: []string{"x"}}, testimage.Layer(t, testimage.File{Name: "x", Body: "x"})))
	locked.Store(true)
	cfg := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfg)
	login := func(user, pass string) {
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		data := `{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`
		if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, user, pass string }{{"no credentials", "", ""}, {"a wrong password", "rtd", "wrong"}} {
		if tc.user != "" {
			login(tc.user, tc.pass)
		}
		_, err := s.Pull(ctx, ref, imagestore.PullOptions{NoRetry: true})
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "docker login") {
			t.Errorf("pull with %s: %v, want PermissionDenied naming docker login", tc.name, err)
		}
	}
	login("rtd", "s3cret")
	im, err := s.Pull(ctx, ref, imagestore.PullOptions{})
	if err != nil {
		t.Fatalf("pull with the docker config's credentials: %v", err)
	}
	if im.Digest.String() != dig {
		t.Fatalf("pulled %s, want %s", im.Digest, dig)
	}
}
