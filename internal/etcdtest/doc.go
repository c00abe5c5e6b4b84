// Package etcdtest runs a real etcd server (go.etcd.io/etcd/server/v3/embed)
// inside a test, on loopback, with its data in a temporary directory: the
// fleet's tests talk to etcd itself, never to a mock.
//
//	srv := etcdtest.Start(t)
//	c := srv.Client(t)
//	srv.Stop(t)    // the store goes away: clients see timeouts
//	srv.Start(t)   // back on the same address with the same data
package etcdtest
