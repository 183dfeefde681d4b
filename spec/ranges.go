package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// valueRange is the source range of attribute name's value in body, or the
// body's missing-item range (its opening brace) when the attribute is not
// written there. Semantic errors point at it.
func valueRange(body hcl.Body, name string) hcl.Range {
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a := sb.Attributes[name]; a != nil {
			return a.Expr.Range()
		}
	}
	return missingRange(body)
}

// elemRange is the range of the i-th element of the list attribute name,
// falling back to the whole value.
func elemRange(body hcl.Body, name string, i int) hcl.Range {
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a := sb.Attributes[name]; a != nil {
			if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
				return t.Exprs[i].Range()
			}
			return a.Expr.Range()
		}
	}
	return missingRange(body)
}

// keyRange is the range of the item with key key of the object attribute
// name (env = { KEY = "v" }), falling back to the whole value.
func keyRange(body hcl.Body, name, key string) hcl.Range {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return missingRange(body)
	}
	a := sb.Attributes[name]
	if a == nil {
		return missingRange(body)
	}
	if o, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range o.Items {
			var k string
			if diags := gohcl.DecodeExpression(item.KeyExpr, nil, &k); !diags.HasErrors() && k == key {
				return item.KeyExpr.Range()
			}
		}
	}
	return a.Expr.Range()
}

func missingRange(body hcl.Body) hcl.Range {
	if body == nil {
		return hcl.Range{}
	}
	return body.MissingItemRange()
}
