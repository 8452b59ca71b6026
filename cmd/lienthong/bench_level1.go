package main

import (
	"context"
	"fmt"
	"net/url"
)

// unitLevel1 asks the catalog for the level-1 code of a unit's agencies today (H31 for
// Hưng Yên, 33: docs/domain.md, Identifiers), from which its People's Committee's code,
// 000.00.00.H31, is formed.
func (b *bencher) unitLevel1(ctx context.Context, unit string) (string, error) {
	var u struct {
		Level1Code string `json:"level1_code"`
	}
	if err := b.get(ctx, b.ctl, "/v1/units/"+url.PathEscape(unit), &u); err != nil {
		return "", fmt.Errorf("catalog: unit %s: %w", unit, err)
	}
	if u.Level1Code == "" {
		return "", fmt.Errorf("catalog: unit %s has no level-1 code of agency identifiers today", unit)
	}
	return u.Level1Code, nil
}
