package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in the canonical layout of HCL (hclwrite.Format: the
// layout `terraform fmt` writes): indentation, spacing around '=' and
// aligned '=' in runs of attributes. Only whitespace changes: the spec's
// meaning and hash stay the same. A file that is not safe to parse (see
// LoadBytes) or has syntax errors is not formatted; the diagnostics say why.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if d := checkSafe(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if _, diags := hclwrite.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
