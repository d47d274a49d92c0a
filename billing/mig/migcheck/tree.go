package migcheck

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// node is one element of a parsed message, read generically: its name, its
// child elements in document order and its own character data.
type node struct {
	name     xml.Name
	line     int
	children []*node
	text     string
}

// parse reads data into an element tree. Comments, processing instructions
// and the declaration are skipped; a document with no root, two roots or
// malformed XML is an error.
func parse(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		root  *node
		stack []*node
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			n := &node{name: t.Name, line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("第 %d 行:文件只能有一個根元素", line)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				n.text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("文件沒有根元素")
	}
	return root, nil
}

// child returns n's first child called local, or nil.
func (n *node) child(local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

// all returns n's children called local.
func (n *node) all(local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if c.name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// value returns the text of the element at path under n and whether it is
// there.
func (n *node) value(path ...string) (string, bool) {
	for _, p := range path {
		n = n.child(p)
	}
	if n == nil {
		return "", false
	}
	return n.text, true
}

// elem is one element of a schema sequence: a leaf (no kids) or a sequence
// of its own. min is 0 for an optional element; max is 0 for unbounded.
type elem struct {
	name     string
	min, max int
	kids     []elem
}

// one, opt and many build sequence elements.
func one(name string, kids ...elem) elem  { return elem{name: name, min: 1, max: 1, kids: kids} }
func opt(name string, kids ...elem) elem  { return elem{name: name, min: 0, max: 1, kids: kids} }
func many(name string, kids ...elem) elem { return elem{name: name, min: 1, max: 0, kids: kids} }

// structure checks n's children against the sequence seq, recursively: every
// child in the document's namespace, known, in the sequence's order, no more
// often than allowed, and every required element present.
func (c *checker) structure(path string, n *node, seq []elem) {
	counts := make([]int, len(seq))
	at := 0 // the sequence position reached so far
	for _, ch := range n.children {
		p := path + "/" + ch.name.Local
		if ch.name.Space != c.ns {
			c.add(p, "命名空間應為 %s,實際為「%s」", c.ns, ch.name.Space)
		}
		k := indexFrom(seq, at, ch.name.Local)
		if k < 0 {
			if e := indexFrom(seq, 0, ch.name.Local); e >= 0 {
				c.add(p, "順序錯誤:<%s> 應在 <%s> 之前", ch.name.Local, seq[at].name)
			} else {
				c.add(p, "不應出現的元素 <%s>", ch.name.Local)
			}
			continue
		}
		for i := at; i < k; i++ {
			if counts[i] < seq[i].min {
				c.add(path+"/"+seq[i].name, "缺少必要欄位 <%s>", seq[i].name)
			}
		}
		at = k
		counts[k]++
		e := seq[k]
		if e.max > 0 && counts[k] > e.max {
			c.add(p, "<%s> 最多出現 %d 次", e.name, e.max)
		}
		switch {
		case len(e.kids) > 0:
			c.structure(p, ch, e.kids)
		case len(ch.children) > 0:
			c.add(p, "<%s> 應為單純的值,不應含有子元素", e.name)
		}
	}
	for i := at; i < len(seq); i++ {
		if counts[i] < seq[i].min {
			c.add(path+"/"+seq[i].name, "缺少必要欄位 <%s>", seq[i].name)
		}
	}
}

func indexFrom(seq []elem, from int, name string) int {
	for i := from; i < len(seq); i++ {
		if seq[i].name == name {
			return i
		}
	}
	return -1
}
