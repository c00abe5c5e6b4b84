// Package ipvslock is the advisory lock that the writers of one network
// namespace's IPVS table take, so that two of them cannot trample each
// other: ipvsadm-restore, every writing ipvsctl command and the agent take
// it before they read the table they plan against, and hold it until
// their last request is answered.
//
// The lock is a file under /run/ipvs-tools named after the namespace's
// inode number (net-4026531840.lock for a host's initial namespace),
// locked with flock(2): the kernel releases it when its holder exits, however
// it exits, so a crashed writer never leaves the table locked. While held,
// the file says who holds it (process ID, what it is doing, since when),
// which is what a waiting writer reports. Readers take no lock.
//
// The lock is advisory: tools that do not take it (ipvsadm's single
// commands, kube-proxy, keepalived) are not held back by it.
package ipvslock
