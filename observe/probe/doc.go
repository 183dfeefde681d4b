// Package probe finds marked Quobyte devices on a host and describes them in
// a Report. It imports no Mesos code: the prober executor (observe/prober)
// wraps it, and it can be tested on its own against real mounts.
//
// What counts as a device (DESIGN.md, "Quobyte facts"):
//
//   - mounts mode: every mount strictly under the device root, as listed in
//     the mount table (/proc/self/mountinfo; the last mount on a path wins).
//     Only ext4 and xfs qualify; others are rejected "wrong filesystem X".
//   - directories mode: every non-hidden subdirectory of the device root,
//     whatever its filesystem (bare directories, the simulated cluster).
//
// A candidate is a device when it carries a QUOBYTE_DEV_SETUP file (parsed
// by ParseMarker) or a legacy marker directory (quobyte-dir,
// quobyte-metadata, quobyte-data; Device.Legacy). Types from both are
// merged. A QUOBYTE_DEV_SETUP without device.type gives a device with no
// types. Rejection reasons: "no marker", "unreadable marker: ...",
// "malformed marker: ...", "unknown device.type X", "wrong filesystem X",
// "statfs: ...". An unreadable QUOBYTE_DEV_ID does not reject a device: it is
// reported without ID and with a warning.
//
// Device paths are as the mount table shows them: with the device root's
// symlinks resolved. Report.DeviceRoot echoes the configured root.
//
// The scanner never writes: files are opened read-only with O_NOATIME (when
// permitted) and O_NONBLOCK (a FIFO under a marker's name cannot hang it).
//
// Scanner.Watch notices changes at once: in mounts mode it waits in poll(2)
// on the mount table (the kernel wakes it on every mount and unmount), and
// in both modes it stat-polls the candidates' marker files every 250 ms.
// Known limit: a hung filesystem (stat blocking forever) stalls Scan and
// Watch; Quobyte devices are local disks.
package probe
