// Package lvslab builds small LVS labs inside the test VM (see
// internal/vm and internal/vm/vmtest). So far it writes keepalived
// configurations (Config, Scale) for runs of keepalived's health checker
// beside the project's own agent.
package lvslab
