// The servers build in GOPATH mode (GO111MODULE=off) against Debian's sources under
// /usr/share/gocode, with this folder at GOPATH/src/servers/go (see ../build-go.sh).
//
// This file is what lets echo and chi resolve their /vN import paths there: for code in a
// GOPATH tree that holds a go.mod, the go command's "minimal module compatibility" reads
// github.com/labstack/echo/v4 as github.com/labstack/echo when that folder's go.mod says
// "module github.com/labstack/echo/v4" (the same for github.com/go-chi/chi/v5). It also keeps
// the servers out of the appliance/workloads module one folder up.
module servers/go

go 1.23
