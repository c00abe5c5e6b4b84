package nss

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	hosts := "127.0.0.1 localhost ipvs-vm\n::1 localhost ip6-localhost\n# 10.0.0.9 commented\n" +
		"10.0.0.1\tvip1.example.com vip1 # trailing\n10.0.0.1 other\n2001:db8::1 v6vip.example.com v6vip\nbogus line\n"
	services := "# comment\nftp\t\t21/tcp\nhttp\t\t80/tcp\t\twww # WorldWideWeb\nhttp 80/udp\ndomain\t\t53/tcp\ndomain\t\t53/udp\n" +
		"alt 80/tcp\nbad 99999/tcp\n"
	os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
	os.WriteFile(filepath.Join(dir, "services"), []byte(services), 0o644)
	db := &DB{HostsPath: filepath.Join(dir, "hosts"), ServicesPath: filepath.Join(dir, "services")}

	if a, ok := db.LookupHost("VIP1"); !ok || a != [4]byte{10, 0, 0, 1} {
		t.Errorf("LookupHost(VIP1) = %v %v", a, ok)
	}
	if a, ok := db.LookupHost("localhost"); !ok || a != [4]byte{127, 0, 0, 1} {
		t.Errorf("LookupHost(localhost) = %v %v", a, ok)
	}
	if _, ok := db.LookupHost("v6vip"); ok {
		t.Errorf("an IPv6-only name resolved to IPv4")
	}
	if _, ok := db.LookupHost("nosuch"); ok {
		t.Errorf("nosuch resolved")
	}
	if n, ok := db.HostByAddr(netip.MustParseAddr("10.0.0.1")); !ok || n != "vip1.example.com" {
		t.Errorf("HostByAddr(10.0.0.1) = %q", n)
	}
	if n, ok := db.HostByAddr(netip.MustParseAddr("::1")); !ok || n != "localhost" {
		t.Errorf("HostByAddr(::1) = %q", n)
	}
	if _, ok := db.HostByAddr(netip.MustParseAddr("10.0.0.9")); ok {
		t.Errorf("commented host found")
	}
	if p, ok := db.LookupService("www", "tcp"); !ok || p != 80 {
		t.Errorf("www/tcp = %d", p)
	}
	if _, ok := db.LookupService("ftp", "udp"); ok {
		t.Errorf("ftp/udp found")
	}
	if _, ok := db.LookupService("WWW", "tcp"); ok {
		t.Errorf("service names are case-sensitive")
	}
	if n, ok := db.ServByPort(80, "tcp"); !ok || n != "http" {
		t.Errorf("80/tcp = %q", n)
	}
	if n, ok := db.ServByPort(53, "udp"); !ok || n != "domain" {
		t.Errorf("53/udp = %q", n)
	}
	if _, ok := db.ServByPort(53, "sctp"); ok {
		t.Errorf("53/sctp found")
	}
}
