package platform

import (
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantErr             bool
		enabled, disabled   zapcore.Level
	}{
		{name: "json info", level: "info", format: "json", enabled: zapcore.InfoLevel, disabled: zapcore.DebugLevel},
		{name: "console debug", level: "debug", format: "console", enabled: zapcore.DebugLevel, disabled: zapcore.DebugLevel - 1},
		{name: "json error", level: "error", format: "json", enabled: zapcore.ErrorLevel, disabled: zapcore.WarnLevel},
		{name: "bad level", level: "loud", format: "json", wantErr: true},
		{name: "bad format", level: "info", format: "xml", wantErr: true},
		{name: "empty format", level: "info", format: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lg, err := NewLogger(tt.level, tt.format)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewLogger(%q, %q) succeeded, want an error", tt.level, tt.format)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewLogger(%q, %q): %v", tt.level, tt.format, err)
			}
			if !lg.Core().Enabled(tt.enabled) {
				t.Errorf("level %v disabled, want enabled", tt.enabled)
			}
			if lg.Core().Enabled(tt.disabled) {
				t.Errorf("level %v enabled, want disabled", tt.disabled)
			}
		})
	}
}
