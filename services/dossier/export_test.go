package dossier

// For the external tests (package dossier_test, which can import simulate): the test
// catalog of fixture_test.go.

// FakeCatalog is the small fixed catalog of the tests.
type FakeCatalog = fakeCatalog

// NewFakeCatalog returns the test catalog, up.
func NewFakeCatalog() *FakeCatalog { return newFakeCatalog() }
