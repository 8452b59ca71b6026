package main

import (
	"errors"
	"strings"
)

// fileList is a repeatable flag of file names (--crl A --crl B).
type fileList []string

func (l *fileList) String() string { return strings.Join(*l, ",") }

func (l *fileList) Set(s string) error {
	if s == "" {
		return errors.New("a file name is needed")
	}
	*l = append(*l, s)
	return nil
}
