// Package agent implements ipvsctl agent: the health-checking
// reconciliation loop (cmd/ipvsctl/internal/agent) behind flags, signals,
// systemd notification and an HTTP endpoint, and ipvsctl agent status.
package agent
