// Package spec is the HCL language in which an operator describes a whole
// Quobyte installation on Mesos, and its loader.
//
// Contract:
//
//   - Load / LoadBytes parse a spec file, apply defaults and validate it,
//     returning a *Cluster only when there is no error. Every problem is
//     reported at once, each as an hcl.Diagnostic whose Subject is the range
//     of the offending text (for semantic errors: the attribute's value), so
//     FormatDiagnostics can print file:line:column with a source snippet.
//     Problems with the file as a whole (missing, a directory, too large,
//     binary, empty) are one diagnostic without Subject, naming the file.
//     Warnings (an ignored setting, an unpinned version) come with a valid
//     cluster. Nothing here panics on bad input; ReadFile refuses missing
//     files, directories and files over MaxFileSize; LoadBytes refuses more
//     than MaxFileSize, binary data, and nesting beyond MaxNesting (with the
//     position of the first level too many) before the HCL parser, which
//     recurses per level, sees the file. That bounds the memory and stack
//     of every load, the framework's reloads and dry runs included.
//   - A number or bool where a string is wanted is an error (HCL would
//     convert it: 3.10 became "3.1").
//   - A returned Cluster is complete (every kind in Services, defaults
//     filled in) and immutable: callers must not modify it.
//   - Cluster.Hash changes exactly when an effective setting changes, never
//     with formatting, comments or the order of blocks.
//   - Service.ConfigHash (10 lowercase hex digits, no dots: it goes into
//     Mesos task IDs) covers what a task is launched with: image and version
//     (or command), runtime, resources, ports, environment, args, health
//     check, kill grace, device root and registry override. Count, hosts,
//     placement, restart, upgrade and state are not in it: changing those
//     restarts nothing. Prober.ConfigHash does the same for the prober.
//   - Diff names each effective setting that differs between two clusters
//     by its path in the spec language; it is empty exactly when the hashes
//     are equal. Format rewrites a file in the canonical layout and never
//     changes its hash.
//
// The language itself is documented in docs/spec.md; examples/*.hcl are
// kept valid by this package's tests. This package imports nothing of Mesos.
package spec
