package docexchange

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// xnode is one element of a package read as a tree. Packages from deployed systems mix
// prefixed and unprefixed names and even use prefixes they never declare (README.md,
// "edXML"), so below the root every element is found by its local name; the root's
// namespace says which form the package is.
type xnode struct {
	space, local string // namespace (or an undeclared prefix) and local name
	attrs        []xml.Attr
	text         strings.Builder
	kids         []*xnode
	// spool holds the decoded base64 content of an attachment read as a stream
	// (edxml_stream.go); its text is then empty.
	spool *spool
}

// parseXMLTree reads a package into a tree. The shape bounds (checkEdxmlShape) are checked
// before, so the tree stays small; the decoder is strict (no unknown entities).
func parseXMLTree(data []byte) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *xnode
	var stack []*xnode
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// child is the first child element named local, or nil.
func (n *xnode) child(local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.local == local {
			return k
		}
	}
	return nil
}

// path follows child names; nil when one is missing.
func (n *xnode) path(locals ...string) *xnode {
	for _, l := range locals {
		n = n.child(l)
	}
	return n
}

// children are the child elements named local.
func (n *xnode) children(local string) []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.local == local {
			out = append(out, k)
		}
	}
	return out
}

// find is the first element named local at any depth below n (n included), or nil.
func (n *xnode) find(local string) *xnode {
	if n == nil {
		return nil
	}
	if n.local == local {
		return n
	}
	for _, k := range n.kids {
		if f := k.find(local); f != nil {
			return f
		}
	}
	return nil
}

// str is the trimmed text of the child path, "" when missing.
func (n *xnode) str(locals ...string) string {
	m := n.path(locals...)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m.text.String())
}

// attr is the value of an attribute by local name.
func (n *xnode) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
