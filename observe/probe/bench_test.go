package probe

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkScan_Directories100 scans a device root with 100 marked devices
// (directories mode): the cost of one report on a large host.
func BenchmarkScan_Directories100(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 100; i++ {
		files := map[string]string{SetupFile: fmt.Sprintf("device.serial=S%d\ndevice.model=M\ndevice.type=DATA_DEVICE\n", i)}
		if i%2 == 0 {
			files[IDFile] = fmt.Sprintf("device.id=%d\n", i)
		}
		device(b, filepath.Join(root, fmt.Sprintf("dev%03d", i)), files)
	}
	s := NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories, Hostname: "h"})
	if n := len(s.Scan().Devices); n != 100 {
		b.Fatalf("found %d devices, want 100", n)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Scan()
	}
}

// BenchmarkWatchFingerprint_Directories100 is the cost of one Watch poll
// (every 250 ms) on the same root.
func BenchmarkWatchFingerprint_Directories100(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 100; i++ {
		device(b, filepath.Join(root, fmt.Sprintf("dev%03d", i)), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	}
	s := NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, _ := s.candidates()
		s.fingerprint(c)
	}
}
