package intern

import "testing"

func TestGet(t *testing.T) {
	tab := New("TCP", "UDP")
	if got := tab.Get([]byte("TCP")); got != "TCP" {
		t.Errorf("Get(TCP) = %q", got)
	}
	if got := tab.Get([]byte("other")); got != "other" {
		t.Errorf("Get(other) = %q", got)
	}
	b := []byte("UDP")
	if n := testing.AllocsPerRun(100, func() { _ = tab.Get(b) }); n != 0 {
		t.Errorf("Get of a known name allocates %v times", n)
	}
}
