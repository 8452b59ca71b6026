package platform

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"data-dir", "LIENTHONG_DATA_DIR"},
		{"demo", "LIENTHONG_DEMO"},
		{"max-message-bytes", "LIENTHONG_MAX_MESSAGE_BYTES"},
		{"log_level", "LIENTHONG_LOG_LEVEL"},
		{"grpc.addr", "LIENTHONG_GRPC.ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			if got := EnvName(tt.flag); got != tt.want {
				t.Errorf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

type testFlags struct {
	dataDir string
	demo    bool
	grace   time.Duration
	maxMsg  int
}

func newTestFlagSet() (*flag.FlagSet, *testFlags) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	v := &testFlags{}
	fs.StringVar(&v.dataDir, "data-dir", "./data", "")
	fs.BoolVar(&v.demo, "demo", false, "")
	fs.DurationVar(&v.grace, "grace", 5*time.Second, "")
	fs.IntVar(&v.maxMsg, "max-message-bytes", 8<<20, "")
	return fs, v
}

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestApplyEnv(t *testing.T) {
	defaults := testFlags{dataDir: "./data", grace: 5 * time.Second, maxMsg: 8 << 20}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    testFlags
		wantErr string // substring; "" means no error
	}{
		{name: "nothing set", want: defaults},
		{
			name: "env fills unset flags",
			env:  map[string]string{"LIENTHONG_DATA_DIR": "/var/lib/lienthong", "LIENTHONG_DEMO": "true", "LIENTHONG_GRACE": "30s", "LIENTHONG_MAX_MESSAGE_BYTES": "1024"},
			want: testFlags{dataDir: "/var/lib/lienthong", demo: true, grace: 30 * time.Second, maxMsg: 1024},
		},
		{
			name: "command line wins",
			args: []string{"--data-dir", "/from/flag", "--grace=1s"},
			env:  map[string]string{"LIENTHONG_DATA_DIR": "/from/env", "LIENTHONG_GRACE": "not-a-duration", "LIENTHONG_DEMO": "1"},
			want: testFlags{dataDir: "/from/flag", demo: true, grace: time.Second, maxMsg: 8 << 20},
		},
		{
			name: "command line equal to the default still wins",
			args: []string{"--data-dir=./data"},
			env:  map[string]string{"LIENTHONG_DATA_DIR": "/from/env"},
			want: defaults,
		},
		{
			name: "empty env value is applied",
			env:  map[string]string{"LIENTHONG_DATA_DIR": ""},
			want: testFlags{dataDir: "", grace: 5 * time.Second, maxMsg: 8 << 20},
		},
		{
			name: "unrelated and unprefixed variables ignored",
			env:  map[string]string{"DATA_DIR": "/x", "LIENTHONG_OTHER": "y", "lienthong_data_dir": "/z"},
			want: defaults,
		},
		{
			name:    "bad duration",
			env:     map[string]string{"LIENTHONG_GRACE": "soon"},
			wantErr: "LIENTHONG_GRACE",
		},
		{
			name:    "bad int",
			env:     map[string]string{"LIENTHONG_MAX_MESSAGE_BYTES": "8MB"},
			wantErr: "LIENTHONG_MAX_MESSAGE_BYTES",
		},
		{
			name:    "bad bool",
			env:     map[string]string{"LIENTHONG_DEMO": "yes please"},
			wantErr: "LIENTHONG_DEMO",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, got := newTestFlagSet()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			err := ApplyEnv(fs, lookupFrom(tt.env))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ApplyEnv = nil, want an error naming %s", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ApplyEnv error %q does not name %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			if *got != tt.want {
				t.Errorf("flags = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestApplyEnvLooksUpEveryUnsetFlagOnce(t *testing.T) {
	fs, _ := newTestFlagSet()
	if err := fs.Parse([]string{"--demo"}); err != nil {
		t.Fatal(err)
	}
	var asked []string
	err := ApplyEnv(fs, func(k string) (string, bool) { asked = append(asked, k); return "", false })
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	want := []string{"LIENTHONG_DATA_DIR", "LIENTHONG_GRACE", "LIENTHONG_MAX_MESSAGE_BYTES"} // VisitAll is sorted; demo was given
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("looked up %v, want %v", asked, want)
	}
}
