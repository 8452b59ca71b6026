package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const (
	projectName = "lienthong"
	image       = "lienthong:dev"
	keysVolume  = "keys"
	keysDir     = "/keys"
	dataDir     = "/data"
)

// wantServices is the suite as deployed today.
var wantServices = []struct {
	name       string
	oneShot    bool   // runs to completion (restart "no"); everything else is long-running
	dataVolume string // named volume mounted at /data, "" for none
	published  []string
}{
	{name: "keys", oneShot: true},
	{name: "catalog", dataVolume: "catalog-data"},
	{name: "dossier", dataVolume: "dossier-data"},
	{name: "docexchange", dataVolume: "docexchange-data"},
	{name: "scoring", dataVolume: "scoring-data"},
	{name: "gateway", published: []string{"8080"}},
}

// composePath is the compose file under test: $LIENTHONG_COMPOSE_FILE or
// ../docker-compose.yml.
func composePath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("LIENTHONG_COMPOSE_FILE")
	if p == "" {
		p = filepath.Join("..", "docker-compose.yml")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatalf("compose path %q: %v", p, err)
	}
	return abs
}

// loadProject loads and validates the compose file the way `docker compose`
// does (schema validation, interpolation, normalization, consistency check,
// path resolution; nothing skipped), with the repo root as working dir.
func loadProject(t *testing.T) *types.Project {
	t.Helper()
	path := composePath(t)
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: content}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName(projectName, true)
	})
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("service %q: not in compose file", name)
	}
	return s
}

func env(s types.ServiceConfig, key string) (string, bool) {
	v, ok := s.Environment[key]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestComposeValidates(t *testing.T) {
	p := loadProject(t)

	var want []string
	for _, w := range wantServices {
		want = append(want, w.name)
	}
	slices.Sort(want)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"project name", p.Name, projectName},
		{"services", sortedKeys(p.Services), want},
		{"disabled services", sortedKeys(p.DisabledServices), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := json.Marshal(tt.got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Errorf("got %s, want %s", g, w)
			}
		})
	}

	t.Run("no version key", func(t *testing.T) {
		f, err := os.Open(composePath(t))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if strings.HasPrefix(sc.Text(), "version:") {
				t.Errorf("line %d: got top-level version key, want none (Compose Specification)", n)
			}
		}
	})
}

func TestBuildFromOneDockerfile(t *testing.T) {
	p := loadProject(t)
	for _, w := range wantServices {
		t.Run(w.name, func(t *testing.T) {
			s := service(t, p, w.name)
			if s.Image != image {
				t.Errorf("image: got %q, want %q", s.Image, image)
			}
			if w.name == "keys" {
				return
			}
			if s.Build == nil {
				t.Fatalf("build: got none, want context %q", ".")
			}
			// Paths are resolved against the working dir, so "." is the repo root.
			if s.Build.Context != p.WorkingDir {
				t.Errorf("build context: got %q, want %q (.)", s.Build.Context, p.WorkingDir)
			}
			if s.Build.Dockerfile != "Dockerfile" {
				t.Errorf("build dockerfile: got %q, want %q", s.Build.Dockerfile, "Dockerfile")
			}
			if s.Build.DockerfileInline != "" {
				t.Errorf("build dockerfile_inline: got %q, want none", s.Build.DockerfileInline)
			}
		})
	}
}

func TestPublishedPorts(t *testing.T) {
	p := loadProject(t)
	for _, w := range wantServices {
		t.Run(w.name, func(t *testing.T) {
			s := service(t, p, w.name)
			got := []string{}
			for _, port := range s.Ports {
				got = append(got, port.Published)
				if port.Published == "" {
					t.Errorf("port target %d: got no host port, want an explicit one", port.Target)
				}
			}
			want := w.published
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("published ports: got %q, want %q", got, want)
			}
		})
	}

	t.Run("only gateway publishes", func(t *testing.T) {
		var got []string
		for _, name := range sortedKeys(p.Services) {
			if len(p.Services[name].Ports) > 0 {
				got = append(got, name)
			}
		}
		if want := []string{"gateway"}; !slices.Equal(got, want) {
			t.Errorf("services publishing ports: got %q, want %q", got, want)
		}
	})

	t.Run("gateway 8080:8080", func(t *testing.T) {
		s := service(t, p, "gateway")
		if len(s.Ports) != 1 {
			t.Fatalf("gateway ports: got %d, want 1", len(s.Ports))
		}
		if got, want := s.Ports[0].Target, uint32(8080); got != want {
			t.Errorf("gateway container port: got %d, want %d", got, want)
		}
		listen, _ := env(s, "LIENTHONG_LISTEN")
		if _, port, err := net.SplitHostPort(listen); err != nil || port != "8080" {
			t.Errorf("gateway LIENTHONG_LISTEN: got %q, want port 8080", listen)
		}
	})
}

func TestPartWiring(t *testing.T) {
	p := loadProject(t)

	// Each part listens where it says and exposes that port.
	listens := []struct {
		service string
		listen  string
	}{
		{"catalog", "0.0.0.0:9101"},
		{"dossier", "0.0.0.0:9102"},
		{"docexchange", "0.0.0.0:9103"},
		{"scoring", "0.0.0.0:9104"},
	}
	for _, tt := range listens {
		t.Run(tt.service+" listens", func(t *testing.T) {
			s := service(t, p, tt.service)
			got, _ := env(s, "LIENTHONG_LISTEN")
			if got != tt.listen {
				t.Errorf("LIENTHONG_LISTEN: got %q, want %q", got, tt.listen)
			}
			_, port, err := net.SplitHostPort(tt.listen)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(s.Expose, port) {
				t.Errorf("expose: got %q, want it to contain %q", s.Expose, port)
			}
			health, _ := env(s, "LIENTHONG_HEALTH_ADDR")
			if _, hport, err := net.SplitHostPort(health); err != nil || hport != port {
				t.Errorf("LIENTHONG_HEALTH_ADDR: got %q, want 127.0.0.1:%s", health, port)
			}
		})
	}

	// Each address the gateway dials names a service that exposes and
	// listens on that port.
	dials := []struct {
		service string
		env     string
		target  string
	}{
		{"gateway", "LIENTHONG_CATALOG_ADDR", "catalog"},
		{"gateway", "LIENTHONG_DOSSIER_ADDR", "dossier"},
		{"gateway", "LIENTHONG_DOCEXCHANGE_ADDR", "docexchange"},
		{"gateway", "LIENTHONG_SCORING_ADDR", "scoring"},
		{"dossier", "LIENTHONG_CATALOG_ADDR", "catalog"},
		{"scoring", "LIENTHONG_CATALOG_ADDR", "catalog"},
		{"scoring", "LIENTHONG_DOSSIER_ADDR", "dossier"},
		{"scoring", "LIENTHONG_DOCEXCHANGE_ADDR", "docexchange"},
		{"docexchange", "LIENTHONG_CATALOG_ADDR", "catalog"},
	}
	for _, tt := range dials {
		t.Run(tt.service+" "+tt.env, func(t *testing.T) {
			s := service(t, p, tt.service)
			addr, ok := env(s, tt.env)
			if !ok {
				t.Fatalf("%s: got unset, want %s:<port>", tt.env, tt.target)
			}
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("%s=%q: %v", tt.env, addr, err)
			}
			if host != tt.target {
				t.Errorf("%s host: got %q, want %q", tt.env, host, tt.target)
			}
			target, ok := p.Services[host]
			if !ok {
				t.Fatalf("%s=%q: got no service %q", tt.env, addr, host)
			}
			if !slices.Contains(target.Expose, port) {
				t.Errorf("%s exposes: got %q, want it to contain %q (from %s)", host, target.Expose, port, tt.env)
			}
			listen, _ := env(target, "LIENTHONG_LISTEN")
			if _, lport, err := net.SplitHostPort(listen); err != nil || lport != port {
				t.Errorf("%s LIENTHONG_LISTEN: got %q, want port %s (from %s)", host, listen, port, tt.env)
			}
		})
	}
}

func TestVolumes(t *testing.T) {
	p := loadProject(t)
	dataOwner := map[string]string{} // data volume -> service mounting it
	for _, w := range wantServices {
		t.Run(w.name, func(t *testing.T) {
			s := service(t, p, w.name)
			var keys, data []types.ServiceVolumeConfig
			for _, v := range s.Volumes {
				switch v.Target {
				case keysDir:
					keys = append(keys, v)
				case dataDir:
					data = append(data, v)
				}
			}

			if len(keys) != 1 {
				t.Fatalf("mounts at %s: got %d, want 1", keysDir, len(keys))
			}
			k := keys[0]
			if k.Type != types.VolumeTypeVolume || k.Source != keysVolume {
				t.Errorf("%s mount: got %s %q, want volume %q", keysDir, k.Type, k.Source, keysVolume)
			}
			if wantRO := w.name != "keys"; k.ReadOnly != wantRO {
				t.Errorf("%s read-only: got %v, want %v", keysDir, k.ReadOnly, wantRO)
			}
			if got, ok := env(s, "LIENTHONG_KEYS_DIR"); !ok || got != keysDir {
				t.Errorf("LIENTHONG_KEYS_DIR: got %q, want %q", got, keysDir)
			}

			if w.dataVolume == "" {
				if len(data) != 0 {
					t.Errorf("mounts at %s: got %d, want none", dataDir, len(data))
				}
				return
			}
			if len(data) != 1 {
				t.Fatalf("mounts at %s: got %d, want 1", dataDir, len(data))
			}
			d := data[0]
			if d.Type != types.VolumeTypeVolume || d.Source != w.dataVolume || d.ReadOnly {
				t.Errorf("%s mount: got %s %q ro=%v, want writable volume %q", dataDir, d.Type, d.Source, d.ReadOnly, w.dataVolume)
			}
			if _, ok := p.Volumes[d.Source]; !ok {
				t.Errorf("volume %q: got undeclared, want it under top-level volumes", d.Source)
			}
			if got, ok := env(s, "LIENTHONG_DATA_DIR"); !ok || got != dataDir {
				t.Errorf("LIENTHONG_DATA_DIR: got %q, want %q", got, dataDir)
			}
		})
	}

	t.Run("data volumes not shared", func(t *testing.T) {
		for _, name := range sortedKeys(p.Services) {
			for _, v := range p.Services[name].Volumes {
				if v.Type != types.VolumeTypeVolume || v.Source == keysVolume {
					continue
				}
				if other, ok := dataOwner[v.Source]; ok && other != name {
					t.Errorf("volume %q: got mounted by %s and %s, want one owner", v.Source, other, name)
				}
				dataOwner[v.Source] = name
			}
		}
	})
}

// runsHealth reports whether a healthcheck test runs `/lienthong health`.
func runsHealth(test []string) bool {
	if len(test) == 0 {
		return false
	}
	switch test[0] {
	case "CMD":
		return slices.Equal(test[1:], []string{"/lienthong", "health"})
	case "CMD-SHELL":
		return len(test) == 2 && slices.Equal(strings.Fields(test[1]), []string{"/lienthong", "health"})
	}
	return false
}

func TestLifecycle(t *testing.T) {
	p := loadProject(t)
	for _, w := range wantServices {
		t.Run(w.name, func(t *testing.T) {
			s := service(t, p, w.name)
			if w.oneShot {
				if s.Restart != types.RestartPolicyNo {
					t.Errorf("restart: got %q, want %q", s.Restart, types.RestartPolicyNo)
				}
				return
			}
			if s.Restart != types.RestartPolicyUnlessStopped {
				t.Errorf("restart: got %q, want %q", s.Restart, types.RestartPolicyUnlessStopped)
			}
			hc := s.HealthCheck
			if hc == nil || hc.Disable {
				t.Fatalf("healthcheck: got none, want one running /lienthong health")
			}
			if !runsHealth(hc.Test) {
				t.Errorf("healthcheck test: got %q, want [CMD /lienthong health]", hc.Test)
			}
		})
	}
}

func TestDependsOn(t *testing.T) {
	p := loadProject(t)
	tests := []struct {
		service string
		want    map[string]string // dependency -> condition
	}{
		{"keys", map[string]string{}},
		{"catalog", map[string]string{
			"keys": types.ServiceConditionCompletedSuccessfully,
		}},
		{"dossier", map[string]string{
			"keys":    types.ServiceConditionCompletedSuccessfully,
			"catalog": types.ServiceConditionHealthy,
		}},
		{"docexchange", map[string]string{
			"keys":    types.ServiceConditionCompletedSuccessfully,
			"catalog": types.ServiceConditionHealthy,
		}},
		{"scoring", map[string]string{
			"keys":        types.ServiceConditionCompletedSuccessfully,
			"catalog":     types.ServiceConditionHealthy,
			"dossier":     types.ServiceConditionHealthy,
			"docexchange": types.ServiceConditionHealthy,
		}},
		{"gateway", map[string]string{
			"keys":        types.ServiceConditionCompletedSuccessfully,
			"catalog":     types.ServiceConditionHealthy,
			"dossier":     types.ServiceConditionHealthy,
			"docexchange": types.ServiceConditionHealthy,
			"scoring":     types.ServiceConditionHealthy,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := service(t, p, tt.service)
			got := map[string]string{}
			for dep, d := range s.DependsOn {
				got[dep] = d.Condition
			}
			for _, dep := range sortedKeys(tt.want) {
				if got[dep] != tt.want[dep] {
					t.Errorf("depends_on %s: got %q, want %q", dep, got[dep], tt.want[dep])
				}
			}
			for _, dep := range sortedKeys(got) {
				if _, ok := tt.want[dep]; !ok {
					t.Errorf("depends_on %s: got %q, want no such dependency", dep, got[dep])
				}
			}
		})
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

// parseDockerfile splits a Dockerfile into stages, each a list of
// instructions starting with its FROM.
func parseDockerfile(text string) [][]instruction {
	var stages [][]instruction
	var buf strings.Builder
	flush := func() {
		line := strings.TrimSpace(buf.String())
		buf.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") {
			continue // comments (and parser directives) end no instruction
		}
		if rest, ok := strings.CutSuffix(line, "\\"); ok {
			buf.WriteString(rest)
			buf.WriteString(" ")
			continue
		}
		buf.WriteString(line)
		flush()
	}
	flush()
	return stages
}

// commandArgs reads the exec form (JSON array) or the shell form of a command.
func commandArgs(s string) []string {
	var exec []string
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &exec) == nil {
		return exec
	}
	return strings.Fields(s)
}

func TestDockerfile(t *testing.T) {
	p := loadProject(t)
	gw := service(t, p, "gateway")
	if gw.Build == nil {
		t.Fatal("gateway build: got none, want the Dockerfile")
	}
	path := filepath.Join(gw.Build.Context, gw.Build.Dockerfile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	stages := parseDockerfile(string(text))
	if len(stages) < 2 {
		t.Fatalf("stages: got %d, want a multi-stage build", len(stages))
	}
	final := stages[len(stages)-1]

	// FROM [--platform=...] image [AS name]
	var from string
	for _, f := range strings.Fields(final[0].args) {
		if !strings.HasPrefix(f, "--") {
			from = f
			break
		}
	}
	user := ""
	var healthchecks, entrypoints []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "HEALTHCHECK":
			healthchecks = append(healthchecks, in.args)
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, in.args)
		}
	}

	t.Run("final stage non-root", func(t *testing.T) {
		if user != "" {
			name, _, _ := strings.Cut(user, ":")
			if name == "root" || name == "0" {
				t.Errorf("USER: got %q, want a non-root user", user)
			}
			return
		}
		image, _, _ := strings.Cut(from, "@")
		if !strings.HasSuffix(image, ":nonroot") {
			t.Errorf("final FROM: got %q and no USER, want a :nonroot image or a non-root USER", from)
		}
	})

	t.Run("final stage healthcheck", func(t *testing.T) {
		if len(healthchecks) == 0 {
			t.Fatal("HEALTHCHECK: got none, want CMD /lienthong health")
		}
		hc := healthchecks[len(healthchecks)-1] // the last one wins
		fields := strings.Fields(hc)
		i := 0
		for i < len(fields) && strings.HasPrefix(fields[i], "--") {
			i++
		}
		if i >= len(fields) || strings.ToUpper(fields[i]) != "CMD" {
			t.Fatalf("HEALTHCHECK: got %q, want CMD /lienthong health", hc)
		}
		_, cmd, _ := strings.Cut(hc, fields[i])
		got := commandArgs(strings.TrimSpace(cmd))
		if want := []string{"/lienthong", "health"}; !slices.Equal(got, want) {
			t.Errorf("HEALTHCHECK CMD: got %q, want %q", got, want)
		}
	})

	t.Run("final stage entrypoint", func(t *testing.T) {
		if len(entrypoints) == 0 {
			t.Fatal(`ENTRYPOINT: got none, want ["/lienthong"]`)
		}
		got := commandArgs(entrypoints[len(entrypoints)-1])
		if want := []string{"/lienthong"}; !slices.Equal(got, want) {
			t.Errorf("ENTRYPOINT: got %q, want %q", got, want)
		}
	})
}
