// Package deploy holds the checks of lienthong's container deployment:
// ../docker-compose.yml and ../Dockerfile.
//
// It is a module of its own, outside the repo's go.work, so that the
// compose-spec loader it needs is not a dependency of the suite. Run it with
//
//	cd deploy && GOWORK=off go test ./...
//
// LIENTHONG_COMPOSE_FILE points the tests at another compose file (default
// ../docker-compose.yml); the Dockerfile checked is the one that file builds.
package deploy
