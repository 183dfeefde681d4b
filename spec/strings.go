package spec

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// checkStrings refuses a number or a bool where the schema wants a string
// (or a list or map of strings). HCL would convert it silently, and what it
// makes of a number is not what was written: `version = 3.10` became "3.1",
// with the same hash as version = "3.1", so another image tag was deployed
// without a word. Which attributes hold strings is read from the raw*
// types' field types, so a new string field is covered without a list to
// keep up to date.
func checkStrings(body *hclsyntax.Body, src []byte) hcl.Diagnostics {
	var diags hcl.Diagnostics
	walkStrings(reflect.TypeFor[rawFile](), body, src, &diags)
	return diags
}

var (
	hclAttributeType = reflect.TypeFor[*hcl.Attribute]()
	stringType       = reflect.TypeFor[string]()
)

// walkStrings checks the attributes of body that t's fields declare as
// strings, and descends into the blocks t declares.
func walkStrings(t reflect.Type, body *hclsyntax.Body, src []byte, diags *hcl.Diagnostics) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, kind, _ := strings.Cut(f.Tag.Get("hcl"), ",")
		switch kind {
		case "optional", "attr":
			if a := body.Attributes[name]; a != nil && holdsStrings(f.Type) {
				checkStringExpr(a.Expr, name, src, diags)
			}
		case "block":
			elem := f.Type
			for elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Slice {
				elem = elem.Elem()
			}
			for _, b := range body.Blocks {
				if b.Type == name {
					walkStrings(elem, b.Body, src, diags)
				}
			}
		}
	}
}

// holdsStrings reports whether a field of type t takes a string, a list of
// strings or a map of strings. *hcl.Attribute is decoded by hand: the only
// one (mesos.master) is a string or a list of strings.
func holdsStrings(t reflect.Type) bool {
	if t == hclAttributeType {
		return true
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map && t.Key() != stringType {
			return false
		}
		t = t.Elem()
	}
	return t.Kind() == reflect.String
}

// checkStringExpr checks one value, or each element of a list or map
// written out, so that the error points at the offending element.
func checkStringExpr(expr hclsyntax.Expression, name string, src []byte, diags *hcl.Diagnostics) {
	switch e := expr.(type) {
	case *hclsyntax.TupleConsExpr:
		for _, el := range e.Exprs {
			checkStringExpr(el, "", src, diags)
		}
		return
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			key := string(item.KeyExpr.Range().SliceBytes(src))
			checkStringExpr(item.ValueExpr, key, src, diags)
		}
		return
	}
	v, d := expr.Value(nil)
	if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return // not a value: decoding reports it
	}
	var what string
	switch v.Type().FriendlyName() {
	case "number":
		what = "a number"
	case "bool":
		what = "a bool"
	default:
		return
	}
	text := strings.TrimSpace(string(expr.Range().SliceBytes(src)))
	why := ""
	var converted string
	if d := gohcl.DecodeExpression(expr, nil, &converted); !d.HasErrors() && converted != text {
		why = fmt.Sprintf(" (unquoted, it would become %q)", converted)
	}
	hint := fmt.Sprintf("%q", text)
	if name != "" {
		hint = name + " = " + hint
	}
	*diags = append(*diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "String expected",
		Detail:   fmt.Sprintf("%s is %s, but this setting is a string%s. Quote it: %s", text, what, why, hint),
		Subject:  expr.Range().Ptr(),
	})
}
