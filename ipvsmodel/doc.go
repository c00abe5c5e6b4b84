// Package ipvsmodel is the kernel's IPVS table as an in-memory model: the
// services, destinations, timeouts and sync daemons of one network
// namespace, changed by the same write requests (ipvs.Op) the kernel takes,
// with the kernel's checks in the kernel's order and its answers (EEXIST,
// ENOENT, ESRCH, EINVAL, ERANGE, ENODEV as *ipvs.Error) and the defaults it
// fills in.
//
// It is the one model of those rules in the project. ipvsadm-restore uses
// it to simulate its input before sending only the difference to the
// kernel, and every unit test's fake kernel is a Model behind a thin
// adapter. A test in the VM (TestVMModelMatchesKernel) sends random
// operation sequences to the model and to the kernels the project
// supports and requires the same answers and the same resulting table.
//
// What the model cannot know of a machine (the schedulers a kernel has, its
// local addresses, its interfaces) it asks a Kernel. The package depends
// only on the vocabulary and the standard library, and builds for every
// GOOS.
package ipvsmodel
