// Package probetest helps tests that need real mounts: it re-runs the test
// binary inside a private mount namespace (so the host's mount table is
// never touched), makes ext4 and xfs filesystems in sparse files, and mounts
// them on loop devices, unmounting at the end of the test.
//
// Usage:
//
//	func TestRealMounts(t *testing.T) { probetest.RunInMountNamespace(t, "^TestInNamespace_") }
//
//	func TestInNamespace_Something(t *testing.T) {
//		probetest.RequireMountNamespace(t)
//		probetest.Mount(t, probetest.MakeFS(t, "ext4"), dir)
//		...
//	}
//
// RunInMountNamespace skips (with the reason) when the machine cannot do
// this: not root, no unshare, mount, mkfs.ext4 or loop devices.
package probetest
